"""Use cases: one async function each, `verb_noun(ctx, actor, input)`, called by every door."""
