using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quanta.Server.Protocol;

/// <summary>POST /v1/chat/completions body (OpenAI's fields plus Quanta's priority and deadline_ms).</summary>
public sealed class ChatCompletionRequest : GenerationRequestBody
{
    /// <summary>The conversation.</summary>
    public List<ChatMessageBody>? Messages { get; set; }

    /// <summary>Newer name of max_tokens (wins when both are given).</summary>
    public int? MaxCompletionTokens { get; set; }

    /// <summary>true: report the sampled tokens' log-probabilities.</summary>
    public bool? Logprobs { get; set; }

    /// <summary>0..20 alternatives per position (needs logprobs true).</summary>
    public int? TopLogprobs { get; set; }

    /// <summary>{"type": "text" | "json_object" | "json_schema"}: accepted, not enforced.</summary>
    public ResponseFormatBody? ResponseFormat { get; set; }
}

/// <summary>One message: role system/user/assistant/tool (developer is read as system); content a string or text parts.</summary>
public sealed class ChatMessageBody
{
    /// <summary>Role.</summary>
    public string? Role { get; set; }

    /// <summary>A string, an array of parts ({"type":"text","text":...}), or null.</summary>
    public JsonElement? Content { get; set; }

    /// <summary>Participant or tool name.</summary>
    public string? Name { get; set; }

    /// <summary>For tool messages: the call answered.</summary>
    public string? ToolCallId { get; set; }

    /// <summary>Assistant tool calls (passed to the template as given).</summary>
    public JsonElement? ToolCalls { get; set; }
}

/// <summary>response_format.</summary>
public sealed class ResponseFormatBody
{
    /// <summary>text, json_object or json_schema.</summary>
    public string? Type { get; set; }

    /// <summary>The schema (json_schema): refused with 400, not supported.</summary>
    public JsonElement? JsonSchema { get; set; }
}

/// <summary>stream_options.</summary>
public sealed class StreamOptionsBody
{
    /// <summary>Send a last chunk with usage and no choices.</summary>
    public bool? IncludeUsage { get; set; }
}

/// <summary>A chat completion (non-streaming answer).</summary>
public sealed class ChatCompletionResponse
{
    /// <summary>chatcmpl-...</summary>
    public string Id { get; set; } = "";

    /// <summary>"chat.completion".</summary>
    public string Object { get; set; } = "chat.completion";

    /// <summary>Unix seconds.</summary>
    public long Created { get; set; }

    /// <summary>Model id.</summary>
    public string Model { get; set; } = "";

    /// <summary>The choices.</summary>
    public List<ChatChoice> Choices { get; set; } = [];

    /// <summary>Token counts and estimates.</summary>
    public UsageBody? Usage { get; set; }
}

/// <summary>One chat choice.</summary>
public sealed class ChatChoice
{
    /// <summary>Choice index.</summary>
    public int Index { get; set; }

    /// <summary>The assistant message.</summary>
    public ChatResponseMessage Message { get; set; } = new();

    /// <summary>Log-probabilities when asked for.</summary>
    public ChatLogprobs? Logprobs { get; set; }

    /// <summary>stop, length, cancelled, deadline or aborted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; set; }
}

/// <summary>An assistant message or a streaming delta.</summary>
public sealed class ChatResponseMessage
{
    /// <summary>"assistant" (first delta / message).</summary>
    public string? Role { get; set; }

    /// <summary>Text.</summary>
    public string? Content { get; set; }
}

/// <summary>Chat-format logprobs.</summary>
public sealed class ChatLogprobs
{
    /// <summary>One entry per generated token.</summary>
    public List<ChatTokenLogprob> Content { get; set; } = [];
}

/// <summary>A token's log-probability in the chat format.</summary>
public sealed class ChatTokenLogprob
{
    /// <summary>Token text (UTF-8 decoded on its own).</summary>
    public string Token { get; set; } = "";

    /// <summary>Natural-log probability (−9999 stands for −∞).</summary>
    public float Logprob { get; set; }

    /// <summary>The token's UTF-8 bytes.</summary>
    public List<int> Bytes { get; set; } = [];

    /// <summary>Alternatives, best first (absent in the alternatives themselves).</summary>
    public List<ChatTokenLogprob>? TopLogprobs { get; set; }
}

/// <summary>One streaming chunk.</summary>
public sealed class ChatCompletionChunk
{
    /// <summary>Same id for every chunk of a response.</summary>
    public string Id { get; set; } = "";

    /// <summary>"chat.completion.chunk".</summary>
    public string Object { get; set; } = "chat.completion.chunk";

    /// <summary>Unix seconds.</summary>
    public long Created { get; set; }

    /// <summary>Model id.</summary>
    public string Model { get; set; } = "";

    /// <summary>Choice deltas (empty in the usage chunk).</summary>
    public List<ChatChunkChoice> Choices { get; set; } = [];

    /// <summary>Only in the last chunk, when stream_options.include_usage.</summary>
    public UsageBody? Usage { get; set; }
}

/// <summary>A streaming choice delta.</summary>
public sealed class ChatChunkChoice
{
    /// <summary>Choice index.</summary>
    public int Index { get; set; }

    /// <summary>New text (and the role in the first delta).</summary>
    public ChatResponseMessage Delta { get; set; } = new();

    /// <summary>Log-probabilities of this delta's token.</summary>
    public ChatLogprobs? Logprobs { get; set; }

    /// <summary>Set in the choice's last delta.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; set; }
}
