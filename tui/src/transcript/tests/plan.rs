//! The plan cell: every status, an explanation, wrapping, text from the
//! tool shown escaped.

use insta::assert_snapshot;

use super::screen;

const PLAN: &str = r##"
@0 {"type":"item.completed","item":{"id":"item_0","type":"user_message","text":"Fix the parser."}}
@1 {"type":"item.completed","item":{"id":"item_1","type":"tool_call","tool":"update_plan","arguments":{},"output":"Plan updated","status":"completed"}}
@1 {"type":"plan.updated","explanation":"The parser fails on empty input; fix it, then cover it with tests.","plan":[{"step":"Read the parser","status":"completed"},{"step":"Handle empty input in parse_document and every caller that assumes a token","status":"in_progress"},{"step":"Add tests","status":"pending"},{"step":"Evil \u001b[2J\u001b]52;c;aGk=\u0007 step\nsecond line","status":"pending"}]}
@2 {"type":"plan.updated","plan":[]}
"##;

#[test]
fn a_plan_wide_and_narrow() {
    let wide = screen(PLAN, (100, 16), 2);
    let narrow = screen(PLAN, (36, 26), 2);
    for shown in [&wide, &narrow] {
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(!shown.contains('\u{7}'), "{shown}");
    }
    assert_snapshot!("plan_wide", wide);
    assert_snapshot!("plan_narrow", narrow);
}
