"""Project-wide test configuration. The plugin itself is loaded by its pytest11 entry point;
``pytester`` (for the plugin's own tests) is enabled in pyproject.toml."""
