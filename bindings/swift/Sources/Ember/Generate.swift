import CEmber

/// Sampling and stopping parameters of a generation (`ember_generate_params`).
/// The defaults are the library's. Sampling runs penalties → logit bias →
/// topK → typicalP → topP → minP → temperature.
public struct GenerateParams: Sendable {
    /// <= 0: greedy (argmax).
    public var temperature: Float = 0.8
    /// <= 0: off.
    public var topK: Int = 40
    /// In (0, 1]; 1: off.
    public var topP: Float = 0.95
    /// In [0, 1]; 0: off.
    public var minP: Float = 0.05
    /// In (0, 1]; 1: off.
    public var typicalP: Float = 1
    /// > 0; 1: off.
    public var repeatPenalty: Float = 1
    /// Tokens the penalties see; 0: off, -1: all.
    public var repeatLastN: Int = 64
    public var frequencyPenalty: Float = 0
    public var presencePenalty: Float = 0
    /// A fixed seed repeats the text; nil: random.
    public var seed: UInt64? = nil
    /// Tokens to generate at most; -1: until end of generation or a full context.
    public var maxTokens: Int = 256
    /// Add BOS/EOS to a text prompt as the vocabulary asks.
    public var addSpecial: Bool = true
    /// Read control tokens written in a text prompt (`"<|im_start|>"`) as their ids.
    public var parseSpecial: Bool = false
    /// Keep generating past end-of-generation tokens.
    public var ignoreEOS: Bool = false
    /// Strings that end the generation (not returned).
    public var stop: [String] = []
    /// Added to the logits of these tokens; `-Float.infinity` bans a token.
    public var logitBias: [Token: Float] = [:]
    /// Called after each chunk of the prompt with (done, total) tokens, on the
    /// generating thread; returning false stops before any token is sampled.
    public var onPromptProgress: (@Sendable (Int, Int) -> Bool)? = nil

    public init() {}

    /// Greedy decoding (temperature 0) of at most maxTokens tokens.
    public static func greedy(maxTokens: Int) -> GenerateParams {
        var p = GenerateParams()
        p.temperature = 0
        p.maxTokens = maxTokens
        return p
    }

    /// Runs body with the C struct; the arrays it points to live as long as the call.
    func withC<R>(_ place: String,
                  _ body: (inout ember_generate_params) throws(EmberError) -> R) throws(EmberError) -> R {
        var p = ember_generate_params()
        try check(ember_generate_default_params(&p, MemoryLayout<ember_generate_params>.size))
        p.temperature = temperature
        p.top_k = try int32Arg(topK, "topK", place)
        p.top_p = topP
        p.min_p = minP
        p.typical_p = typicalP
        p.repeat_penalty = repeatPenalty
        p.repeat_last_n = try int32Arg(repeatLastN, "repeatLastN", place)
        p.frequency_penalty = frequencyPenalty
        p.presence_penalty = presencePenalty
        p.seed = seed ?? UInt64(EMBER_SEED_RANDOM)
        p.n_predict = try int32Arg(maxTokens, "maxTokens", place)
        p.add_special = addSpecial
        p.parse_special = parseSpecial
        p.ignore_eos = ignoreEOS
        let biasTokens = Array(logitBias.keys)
        let biasValues = biasTokens.map { logitBias[$0]! }
        let result: Result<R, EmberError> = withCStrings(stop) { stops in
            biasTokens.withUnsafeBufferPointer { tokens in
                biasValues.withUnsafeBufferPointer { values in
                    p.stop = stops
                    p.n_stop = stop.count
                    p.logit_bias_tokens = tokens.count > 0 ? tokens.baseAddress : nil
                    p.logit_bias = values.count > 0 ? values.baseAddress : nil
                    p.n_logit_bias = tokens.count
                    do throws(EmberError) { return .success(try body(&p)) } catch { return .failure(error) }
                }
            }
        }
        return try result.get()
    }
}

/// Why a generation stopped.
public enum StopReason: Sendable, Equatable {
    /// An end-of-generation token.
    case endOfGeneration
    /// `maxTokens` tokens.
    case length
    /// A stop string.
    case stopString
    case contextFull
    /// A callback, `Session.Canceller.cancel()` or the cancelled task of a stream.
    case cancelled

    init(_ code: Int32) {
        switch Int(code) {
        case EMBER_STOP_END_OF_GENERATION: self = .endOfGeneration
        case EMBER_STOP_LENGTH: self = .length
        case EMBER_STOP_STRING: self = .stopString
        case EMBER_STOP_CONTEXT_FULL: self = .contextFull
        default: self = .cancelled
        }
    }
}

/// Figures of one generation (`ember_generate_stats`).
public struct GenerateStats: Sendable, Equatable {
    public var stopReason: StopReason
    /// Tokens of the call's prompt.
    public var promptTokens: Int
    /// Of those, already in the KV cache from the previous call.
    public var reusedTokens: Int
    public var generatedTokens: Int
    /// From the call's start to the first generated token.
    public var timeToFirstTokenMs: Double
    public var prefillMs: Double
    public var decodeMs: Double
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double

    init(_ s: ember_generate_stats) {
        stopReason = StopReason(s.stop_reason)
        promptTokens = Int(s.prompt_tokens)
        reusedTokens = Int(s.reused_tokens)
        generatedTokens = Int(s.generated_tokens)
        timeToFirstTokenMs = s.ttft_ms
        prefillMs = s.prefill_ms
        decodeMs = s.decode_ms
        prefillTokensPerSecond = s.prefill_tok_s
        decodeTokensPerSecond = s.decode_tok_s
    }

    static func cStruct() -> ember_generate_stats {
        var s = ember_generate_stats()
        s.struct_size = MemoryLayout<ember_generate_stats>.size
        return s
    }
}

/// The text of a generation and its figures.
public struct Generation: Sendable, Equatable {
    public var text: String
    public var stats: GenerateStats
}

/// A prompt: text, or token ids (empty: start from BOS).
enum Prompt: Sendable {
    case text(String)
    case tokens([Token])
}
