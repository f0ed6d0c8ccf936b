"""Training the product's learned parts and checking the data they learn from: the neural reader
(``training.reader``), its training windows (``training.reader_data``, ``training.contrasts``), the answer
model (``make train``), the question sets split by article, and the checks of the question sets under data/
(``python -m training.checks``)."""
