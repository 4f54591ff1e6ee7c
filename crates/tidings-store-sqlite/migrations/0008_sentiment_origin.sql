-- Where a record's sentiment came from: 'source' (the source's own field) or 'computed' (tidings'
-- lexicon analyser, from the title and body). NULL without a sentiment, and for records cached
-- before this column existed until their next sync rewrites them.
ALTER TABLE feedback ADD COLUMN sentiment_origin TEXT
    CHECK (sentiment_origin IN ('source', 'computed'));
