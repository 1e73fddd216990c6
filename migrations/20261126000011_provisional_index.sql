-- The server's sweep looks for provisional recordings nobody came back for: few rows among
-- all recordings, found through a partial index.
create index recordings_provisional on recordings (session_id) where provisional;
