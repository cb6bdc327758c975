# Metadata lives in pyproject.toml; this shim keeps `python setup.py develop` and old pip working.
from setuptools import setup

setup()
