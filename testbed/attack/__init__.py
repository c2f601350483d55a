"""Attack traffic: the ceilings (``limits``), payloads, pacing and the sender process."""
