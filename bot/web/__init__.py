"""The web app: health now; the child's web chat and the teacher's review later."""
