"""Decoding: the model factory and engine adapter, long recordings in parts, short ones in batches, guards."""
