-- A learner turn's start_ms/end_ms now mean where the learner spoke (issue 17): the page takes
-- off the voice detection's padding (the 300 ms kept before detected speech, and the 500 ms of
-- silence that ended the turn) before saving, for the replay's highlighting and the talk times.
-- Turns saved before carry it: take it off the same way the feedback did when it measured them,
-- so their feedback figures do not move.
update transcript_turns
set start_ms = start_ms + 300,
    end_ms = greatest(start_ms + 300, end_ms - 500)
where speaker = 'learner' and start_ms is not null and end_ms is not null;
