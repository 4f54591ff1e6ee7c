-- raw as JSON text rather than JSONB. Nothing queries inside it: it is written whole by syncs
-- and read whole into API answers. JSONB made PostgreSQL parse it into its binary form on every
-- write and print it back to text on every read (escape_json was 6 % of a GET /api/feedback
-- profile); JSON keeps the text tidings wrote (compact, keys sorted) and hands it back as is.
ALTER TABLE feedback ALTER COLUMN raw TYPE JSON USING raw::json;
