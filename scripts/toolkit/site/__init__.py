"""The side-by-side reader: every component in NumPy beside its PyTorch mirror and the book's version.

    catalog   the components: name, chapter, section, kind, report labels; find_component
    source    the code shown, read from the imported objects and aligned method by method
    measured  the parity suite's report (its errors per component) and running the suite to write it
    terminal  one component in columns in the terminal
    pages     the static site: an index, one page per component, one stylesheet
"""
