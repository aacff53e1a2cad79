//! The cell that says the conversation was compacted, on its own and when
//! asked; the turn goes on below it.

use insta::assert_snapshot;

use super::screen;

const COMPACTED: &str = r##"
@0 {"type":"item.completed","item":{"id":"item_0","type":"user_message","text":"Refactor the parser."}}
@1 {"type":"compacted","trigger":"auto","context_before":245000}
@2 {"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Continuing from the summary."}}
@3 {"type":"compacted","trigger":"manual","context_before":1200}
"##;

#[test]
fn compactions_on_their_own_and_asked() {
    let wide = screen(COMPACTED, (100, 14), 4);
    assert!(wide.contains("245000 tokens used"), "{wide}");
    assert!(wide.contains("as asked (/compact)"), "{wide}");
    assert_snapshot!("compacted_wide", wide);
    assert_snapshot!("compacted_narrow", screen(COMPACTED, (40, 24), 4));
}
