import CEmber

/// One tool call of an assistant reply.
public struct ToolCall: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The arguments as JSON object text.
    public var arguments: String
}

/// Why a chat reply ended.
public enum FinishReason: Sendable, Equatable {
    case stop, length, toolCalls, cancelled
    /// A reason this binding does not know (a newer library).
    case other(String)

    init(_ text: String) {
        switch text {
        case "stop": self = .stop
        case "length": self = .length
        case "tool_calls": self = .toolCalls
        case "cancelled": self = .cancelled
        default: self = .other(text)
        }
    }
}

/// One assistant turn.
public struct ChatReply: Sendable, Equatable {
    /// The reply's text without its tool calls.
    public var content: String
    public var toolCalls: [ToolCall]
    public var finishReason: FinishReason
    /// The reply as an OpenAI assistant message, ready to append to the next
    /// turn's messages: `{"role": "assistant", "content": ..., "tool_calls": [...]}`.
    public var json: String
    public var stats: GenerateStats
}

/// A conversation over a session: messages are rendered with the model's chat
/// template (or the one given), generated from with the template's end-of-turn
/// tokens as stops, and the reply is split into content and tool calls. Each
/// turn reuses the KV cache (sequence 0) for the prefix it shares with the
/// previous one.
///
/// Like its session, a chat is for one thread at a time (not `Sendable`), and a
/// turn counts as a call on the session (`.busy` while a stream runs on it). The
/// chat keeps its session alive; ``Session/canceller`` cancels a running turn.
public final class Chat {
    private let handle: OpaquePointer
    /// The session the chat runs on.
    public let session: Session

    /// - Parameter template: Jinja source, or nil for the model's template
    ///   (ChatML, with a warning in the log, when the file has none).
    /// - Throws: `.invalidArgument` naming the line of a template that does not parse.
    public init(session: Session, template: String? = nil) throws(EmberError) {
        var out: OpaquePointer?
        let status: ember_status
        if let template {
            status = ember_chat_create(session.core.handle, template, &out)
        } else {
            status = ember_chat_create(session.core.handle, nil, &out)
        }
        try check(status)
        handle = out!
        self.session = session
    }

    deinit { ember_chat_free(handle) }  // before `session` is released: the session outlives the chat

    /// True when the model has no chat template and ChatML is used instead.
    public func usesFallbackTemplate() throws(EmberError) -> Bool {
        var out = false
        try check(ember_chat_uses_fallback_template(handle, &out))
        return out
    }

    /// The prompt text the template gives for OpenAI-style JSON messages (and
    /// tools), without generating.
    public func render(messagesJSON: String, toolsJSON: String? = nil,
                       addGenerationPrompt: Bool = true) throws(EmberError) -> String {
        try readText(guess: 4096) { buf, size, outLen in
            withOptionalCString(toolsJSON) {
                ember_chat_render_json(handle, messagesJSON, $0, addGenerationPrompt, buf, size, outLen)
            }
        }
    }

    /// One assistant turn after messages. params: sampling, maxTokens, stop
    /// strings (addSpecial and parseSpecial are decided by the chat).
    /// onPiece receives the reply's text as it is made (on this thread).
    public func reply(to messages: [ChatMessage], params: GenerateParams = GenerateParams(),
                      onPiece: ((String) -> Void)? = nil) throws(EmberError) -> ChatReply {
        try turn(params, onPiece) { (p, stats) throws(EmberError) in
            try withCMessages(messages) { (msgs, n) throws(EmberError) in
                try check(ember_chat_generate(handle, msgs, n, &p, &stats))
            }
        }
    }

    /// One assistant turn after OpenAI-style JSON messages
    /// (`[{"role": "user", "content": "..."}, {"role": "assistant", "tool_calls": [...]},
    /// {"role": "tool", "tool_call_id": "...", "content": "..."}]`) with an optional
    /// OpenAI "tools" array; with tools, the reply is parsed for tool calls.
    public func reply(messagesJSON: String, toolsJSON: String? = nil, params: GenerateParams = GenerateParams(),
                      onPiece: ((String) -> Void)? = nil) throws(EmberError) -> ChatReply {
        try turn(params, onPiece) { (p, stats) throws(EmberError) in
            try check(withOptionalCString(toolsJSON) { ember_chat_generate_json(handle, messagesJSON, $0, &p, &stats) })
        }
    }

    private func turn(_ params: GenerateParams, _ onPiece: ((String) -> Void)?,
                      _ run: (inout ember_generate_params, inout ember_generate_stats) throws(EmberError) -> Void)
        throws(EmberError) -> ChatReply {
        let place = "Ember.Chat.reply"
        let core = session.core
        let control = try core.begin(place)
        var stats = GenerateStats.cStruct()
        var finished: GenerateStats?
        defer { core.end(control, stats: finished) }
        try core.withCallbacks(params, control: control, place: place, sink: { onPiece?($0) }) {
            (p: inout ember_generate_params) throws(EmberError) in
            try run(&p, &stats)
        }
        finished = GenerateStats(stats)
        return try readReply(stats: finished!)
    }

    private func readReply(stats: GenerateStats) throws(EmberError) -> ChatReply {
        let content = try readText(guess: 1024) { ember_chat_reply_content(handle, $0, $1, $2) }
        var count = 0
        try check(ember_chat_reply_n_tool_calls(handle, &count))
        var calls: [ToolCall] = []
        for i in 0..<count {
            func field(_ f: Int) throws(EmberError) -> String {
                try readText { ember_chat_reply_tool_call(handle, i, Int32(f), $0, $1, $2) }
            }
            calls.append(ToolCall(id: try field(EMBER_TOOL_CALL_ID), name: try field(EMBER_TOOL_CALL_NAME),
                                  arguments: try field(EMBER_TOOL_CALL_ARGUMENTS)))
        }
        let reason = FinishReason(String(cString: ember_chat_reply_finish_reason(handle)))
        let json = try readText(guess: 1024) { ember_chat_reply_json(handle, $0, $1, $2) }
        return ChatReply(content: content, toolCalls: calls, finishReason: reason, json: json, stats: stats)
    }
}

@available(*, unavailable)
extension Chat: Sendable {}

extension Session {
    /// A chat over this session (see ``Chat``).
    public func chat(template: String? = nil) throws(EmberError) -> Chat {
        try Chat(session: self, template: template)
    }
}

private func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}
