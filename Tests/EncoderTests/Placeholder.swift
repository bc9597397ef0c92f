// The encoder and muxer tests.
