"""shixin archive: the topics to and from Avro object container files."""
