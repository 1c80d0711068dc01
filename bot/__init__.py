"""PEP Voice: the child's voice part of a Personal Education Plan."""
