"""Reading and writing: JSON for records and results, DataFrames and files for tables."""

from omnijourney.io._json import from_dict, from_json, make_converter, to_dict, to_json

__all__ = ["from_dict", "from_json", "make_converter", "to_dict", "to_json"]
