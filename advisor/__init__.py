"""Connection Pooling Advisor: is this database ready for serverless traffic?"""

__version__ = "0.1.0"
