import CEmber

/// One message of a conversation. Richer messages (tool calls, tool results)
/// go through the JSON forms (``renderChatTemplate(_:contextJSON:)``,
/// ``Chat/reply(messagesJSON:toolsJSON:params:onPiece:)``).
public struct ChatMessage: Sendable, Equatable {
    /// "system", "user", "assistant", "tool", ...
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// Runs body with messages as a C array (their strings copied and NUL-terminated).
func withCMessages<R>(_ messages: [ChatMessage],
                      _ body: (UnsafePointer<ember_chat_message>?, Int) throws(EmberError) -> R) throws(EmberError) -> R {
    let result: Result<R, EmberError> = withCStrings(messages.map(\.role)) { roles in
        withCStrings(messages.map(\.content)) { contents in
            var array: [ember_chat_message] = []
            array.reserveCapacity(messages.count)
            for i in 0..<messages.count { array.append(ember_chat_message(role: roles![i], content: contents![i])) }
            return array.withUnsafeBufferPointer { buf in
                do throws(EmberError) {
                    return .success(try body(buf.count > 0 ? buf.baseAddress : nil, buf.count))
                } catch {
                    return .failure(error)
                }
            }
        }
    }
    return try result.get()
}

/// Renders a Jinja chat template with `messages`, `add_generation_prompt`,
/// `bos_token` and `eos_token`, byte for byte as Hugging Face transformers does.
/// - Throws: `.invalidArgument` with the template's line and message when it
///   does not parse or raises.
public func renderChatTemplate(_ template: String, messages: [ChatMessage], addGenerationPrompt: Bool = false,
                               bosToken: String = "", eosToken: String = "") throws(EmberError) -> String {
    try withCMessages(messages) { (msgs, n) throws(EmberError) in
        try readText(guess: 4096) {
            ember_render_chat_template(template, msgs, n, addGenerationPrompt, bosToken, eosToken, $0, $1, $2)
        }
    }
}

/// Renders a Jinja chat template with every variable taken from a JSON object,
/// e.g. `{"messages": [...], "tools": [...], "add_generation_prompt": true, "bos_token": "<s>"}`.
public func renderChatTemplate(_ template: String, contextJSON: String) throws(EmberError) -> String {
    try readText(guess: 4096) { ember_render_chat_template_json(template, contextJSON, $0, $1, $2) }
}

extension Model {
    /// The prompt for messages in the model's chat template (ChatML when the file
    /// has none), rendered with its BOS/EOS token texts. Generate from it with
    /// `parseSpecial = true` (and `addSpecial = false` when it starts with the
    /// BOS text); ``Chat`` does all of this.
    public func applyChatTemplate(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws(EmberError) -> String {
        try withCMessages(messages) { (msgs, n) throws(EmberError) in
            try readText(guess: 4096) {
                ember_model_apply_chat_template(handle, msgs, n, addGenerationPrompt, $0, $1, $2)
            }
        }
    }
}
