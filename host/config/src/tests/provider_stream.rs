//! `[model_providers.ID] stream`: streamed by default, `false` for servers
//! that cannot stream, on either wire API; a value that is not a boolean is
//! an error at its place.

use super::Fixture;

#[test]
fn providers_stream_unless_told_not_to() {
    let fixture = Fixture::new();
    fixture.user_config(
        "model_provider = \"local\"\n\
         [model_providers.local]\nbase_url = \"http://127.0.0.1:8000/v1\"\nstream = false\n\
         [model_providers.hosted]\nbase_url = \"https://h/v1\"\nwire_api = \"responses\"\n\
         stream = false\n\
         [model_providers.other]\nbase_url = \"https://o/v1\"\n",
    );
    let config = fixture.load();
    assert!(!config.model_provider.stream);
    let stream = |id: &str| config.model_providers[id].stream;
    assert!(!stream("hosted"));
    assert!(stream("other"));
    assert!(
        stream("openai") && stream("ollama"),
        "built-in providers stream"
    );

    // A built-in provider can be told too; the flag overrides the file.
    let config = fixture
        .load_with(|options| {
            options.overrides = vec!["model_providers.ollama.stream=false".to_owned()];
        })
        .unwrap();
    assert!(!config.model_providers["ollama"].stream);
}

#[test]
fn a_stream_that_is_not_a_boolean_names_its_place() {
    let fixture = Fixture::new();
    let path = fixture.user_config(
        "[model_providers.local]\nbase_url = \"http://127.0.0.1:8000/v1\"\nstream = \"no\"\n",
    );
    let err = fixture.load_with(|_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3:10: model_providers.local.stream: invalid type: string \"no\", expected a \
             boolean",
            path.display()
        )
    );
}
