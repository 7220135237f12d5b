"""S3 (or any S3-compatible endpoint) via boto3."""
