//! Chat templates and chat turns (the tiny model has no template: ChatML).

mod common;

use common::{model, session, Json};
use ember::{
    messages_to_json, render_chat_template, render_chat_template_json, Callbacks, Chat, ErrorKind, FinishReason,
    GenerateParams, Message,
};

const TMPL: &str = "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}\
                    {% if add_generation_prompt %}[assistant]{% endif %}";

fn greedy(n: i32) -> GenerateParams {
    GenerateParams::greedy().with_n_predict(n)
}

#[test]
fn render_chat_template_from_messages_and_from_json() {
    let msgs = [Message::system("Be brief."), Message::user("Hi!")];
    assert_eq!(
        render_chat_template(TMPL, &msgs, true, "<s>", "").unwrap(),
        "<s>[system] Be brief.\n[user] Hi!\n[assistant]"
    );
    assert_eq!(render_chat_template(TMPL, &msgs, false, "", "").unwrap(), "[system] Be brief.\n[user] Hi!\n");
    let ctx = format!("{{\"messages\": {}, \"add_generation_prompt\": true}}", messages_to_json(&msgs));
    assert_eq!(render_chat_template_json(TMPL, &ctx).unwrap(), "[system] Be brief.\n[user] Hi!\n[assistant]");
    // quotes, newlines and non-ASCII survive the JSON form
    let tricky = [Message::user("say \"hi\"\n\tthen 東京 \\ 🤖")];
    let ctx = format!("{{\"messages\": {}}}", messages_to_json(&tricky));
    assert_eq!(
        render_chat_template_json(TMPL, &ctx).unwrap(),
        render_chat_template(TMPL, &tricky, false, "", "").unwrap()
    );
}

#[test]
fn template_errors_are_invalid_arguments_with_the_librarys_message() {
    let msgs = [Message::user("x")];
    let err = render_chat_template("{% for %}", &msgs, true, "", "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("[jinja] line 1"), "{err}");
    let err = render_chat_template("{{ raise_exception('no system role') }}", &msgs, true, "", "").unwrap_err();
    assert!(err.message().contains("no system role"), "{err}");
    let err = render_chat_template_json(TMPL, "{not json").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("JSON"), "{err}");
    let mut s = session(64);
    let err = Chat::with_template(&mut s, "{% for %}").unwrap_err();
    assert!(err.message().contains("[jinja] line 1"), "{err}");
}

#[test]
fn apply_chat_template_uses_chatml_for_the_tiny_model() {
    let prompt = model().apply_chat_template(&[Message::user("Hi!")], true).unwrap();
    assert_eq!(prompt, "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n");
}

#[test]
fn a_chat_reply_from_messages() {
    let msgs = [Message::system("Be brief."), Message::user("Hi!")];
    let mut s = session(256);
    let reply = {
        let mut chat = Chat::new(&mut s).unwrap();
        assert!(chat.uses_fallback_template().unwrap());
        let prompt = chat.render(&msgs, true).unwrap();
        assert_eq!(prompt, model().apply_chat_template(&msgs, true).unwrap());
        let reply = chat.generate(&msgs, &greedy(6)).unwrap();
        assert!(reply.stats.generated_tokens > 0);
        assert!(matches!(reply.finish_reason, FinishReason::Stop | FinishReason::Length), "{:?}", reply.finish_reason);
        assert!(reply.tool_calls.is_empty());
        let json = Json::parse(&reply.json).unwrap();
        assert_eq!(json.get("role").as_str(), "assistant");
        assert_eq!(json.get("content").as_str(), reply.content);
        reply
    };
    // The same as generating from the rendered prompt with special tokens parsed.
    let prompt = model().apply_chat_template(&msgs, true).unwrap();
    let mut params = greedy(6);
    params.parse_special = true;
    let plain = s.generate(prompt.as_str(), &params).unwrap();
    assert!(plain.text.starts_with(&reply.content), "{:?} vs {:?}", plain.text, reply.content);
}

#[test]
fn a_chat_reply_from_json_on_an_owned_session_reuses_the_previous_turn() {
    let msgs = [Message::user("Hi!")];
    let mut chat = Chat::new(session(256)).unwrap();
    let first = chat.generate(&msgs, &greedy(6)).unwrap();
    let again = chat.generate_json(&messages_to_json(&msgs), None, &greedy(6)).unwrap();
    assert_eq!(again.content, first.content);
    assert!(again.stats.reused_tokens > 0);
    assert_eq!(
        chat.render_json(r#"[{"role": "user", "content": "Hi!"}]"#, None, true).unwrap(),
        model().apply_chat_template(&msgs, true).unwrap()
    );
    // The reply appended as the next turn's assistant message.
    let next = format!("[{}, {}, {}]", msgs[0].to_json(), first.json, Message::user("And then?").to_json());
    let second = chat.generate_json(&next, None, &greedy(4)).unwrap();
    assert!(second.stats.reused_tokens > 0 && second.stats.generated_tokens > 0);
    // Bad JSON names the place; the chat stays usable.
    let err = chat.generate_json("{not json", None, &greedy(4)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("JSON"), "{err}");
    let err = chat.generate_json(r#"[{"role": 3}]"#, None, &greedy(4)).unwrap_err();
    assert!(err.message().contains("messages[0].role"), "{err}");
    let err = chat.generate(&[], &greedy(4)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert_eq!(chat.generate(&msgs, &greedy(6)).unwrap().content, first.content);
    let s = chat.into_session();
    assert!(s.kv_pos_max(0).unwrap().is_some());
}

#[test]
fn a_chat_reply_streams_its_pieces() {
    let msgs = [Message::user("Hi!")];
    let mut s = session(256);
    let mut chat = Chat::new(&mut s).unwrap();
    let mut streamed = String::new();
    let reply = chat
        .generate_with(
            &msgs,
            &greedy(8),
            Callbacks::new().on_piece(|p| {
                streamed.push_str(p);
                true
            }),
        )
        .unwrap();
    assert!(!streamed.is_empty());
    assert!(streamed.starts_with(reply.content.trim_end()), "{streamed:?} vs {:?}", reply.content);
}

#[test]
fn tools_are_accepted_and_a_bad_tools_array_is_refused() {
    let tools = r#"[{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"#;
    let mut chat = Chat::new(session(512)).unwrap();
    let reply =
        chat.generate_json(r#"[{"role": "user", "content": "Weather in Paris?"}]"#, Some(tools), &greedy(4)).unwrap();
    // Random weights write no tool call; the reply is plain content.
    assert!(reply.tool_calls.is_empty());
    assert_ne!(reply.finish_reason, FinishReason::ToolCalls);
    let err = chat.generate_json(r#"[{"role": "user", "content": "x"}]"#, Some(r#"[{"type""#), &greedy(4)).unwrap_err();
    assert!(err.message().contains("tools"), "{err}");
}
