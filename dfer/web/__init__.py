"""The annotation web app (``dfer annotate serve``): labelling pages over the annotation database."""
