import sys
from pathlib import Path

# The examples import the application module that sits beside them.
sys.path.insert(0, str(Path(__file__).parent))
