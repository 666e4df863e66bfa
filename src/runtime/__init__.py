"""The runtime: files, layouts, writer and reader. Learns every type from ``spineh5.generated``."""
