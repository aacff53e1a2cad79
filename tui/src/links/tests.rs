use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Style};

use super::{Link, find, write};

#[test]
fn paths_of_existing_files_in_the_path_style_become_links() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main file.rs"), "").unwrap();
    let path_style = Style::new().fg(Color::Blue);
    let area = Rect::new(0, 0, 40, 3);
    let mut buf = Buffer::empty(area);
    buf.set_string(2, 0, "M ", Style::new().fg(Color::Yellow));
    buf.set_string(4, 0, "src/main file.rs", path_style);
    // Not a file: no link.
    buf.set_string(4, 1, "src/gone.rs", path_style);
    // A file, but not in the path style.
    buf.set_string(4, 2, "src/main file.rs", Style::new());
    let links = find(&buf, area, path_style, dir.path(), "cursor");
    let expected_url = format!("cursor://file{}/src/main%20file.rs", dir.path().display());
    assert_eq!(
        links,
        [Link {
            x: 4,
            y: 0,
            text: "src/main file.rs".to_owned(),
            style: buf[(4, 0)].style(),
            url: expected_url.clone(),
        }]
    );
    // Without a colour to tell paths apart, nothing is a link.
    assert!(find(&buf, area, Style::new(), dir.path(), "cursor").is_empty());

    let mut out = Vec::new();
    write(&mut out, &links, Some(Position::new(1, 2))).unwrap();
    let out = String::from_utf8(out).unwrap();
    let opened = format!("\x1b]8;;{expected_url}\x1b\\");
    let start = out.find(&opened).unwrap();
    let rest = &out[start + opened.len()..];
    let text_at = rest.find("src/main file.rs").unwrap();
    assert!(rest[text_at..].contains("\x1b]8;;\x1b\\"), "{out:?}");
    // The cursor goes back where the frame left it (row 3, column 2).
    assert!(out.ends_with("\x1b[3;2H"), "{out:?}");
}
