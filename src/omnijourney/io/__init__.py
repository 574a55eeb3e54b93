"""Reading and writing: JSON for records and results, DataFrames and files for tables."""

from omnijourney.io._json import from_dict, from_json, make_converter, to_dict, to_json
from omnijourney.io._state import register_json_state

__all__ = ["from_dict", "from_json", "make_converter", "register_json_state", "to_dict", "to_json"]
