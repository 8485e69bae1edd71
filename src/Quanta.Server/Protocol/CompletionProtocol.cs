using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quanta.Server.Protocol;

/// <summary>POST /v1/completions body.</summary>
public sealed class CompletionRequest : GenerationRequestBody
{
    /// <summary>A string, an array of token ids, or an array holding one string.</summary>
    public JsonElement? Prompt { get; set; }

    /// <summary>0..5 alternatives per position (completions format); null: none.</summary>
    public int? Logprobs { get; set; }

    /// <summary>Prepend the prompt to the text (non-streaming).</summary>
    public bool? Echo { get; set; }

    /// <summary>Accepted when equal to n (or absent).</summary>
    public int? BestOf { get; set; }

    /// <summary>Not supported (400 when non-empty).</summary>
    public string? Suffix { get; set; }
}

/// <summary>A completion (also each streaming chunk, with object "text_completion").</summary>
public sealed class CompletionResponse
{
    /// <summary>cmpl-...</summary>
    public string Id { get; set; } = "";

    /// <summary>"text_completion".</summary>
    public string Object { get; set; } = "text_completion";

    /// <summary>Unix seconds.</summary>
    public long Created { get; set; }

    /// <summary>Model id.</summary>
    public string Model { get; set; } = "";

    /// <summary>Choices.</summary>
    public List<CompletionChoice> Choices { get; set; } = [];

    /// <summary>Usage (non-streaming; last chunk with include_usage).</summary>
    public UsageBody? Usage { get; set; }
}

/// <summary>One completion choice.</summary>
public sealed class CompletionChoice
{
    /// <summary>Text.</summary>
    public string Text { get; set; } = "";

    /// <summary>Choice index.</summary>
    public int Index { get; set; }

    /// <summary>Completions-format logprobs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public CompletionLogprobs? Logprobs { get; set; }

    /// <summary>stop, length, cancelled, deadline or aborted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; set; }
}

/// <summary>The legacy logprobs object.</summary>
public sealed class CompletionLogprobs
{
    /// <summary>Token texts.</summary>
    public List<string> Tokens { get; set; } = [];

    /// <summary>Their log-probabilities.</summary>
    public List<float> TokenLogprobs { get; set; } = [];

    /// <summary>Per position: token text → log-probability of the most likely alternatives.</summary>
    public List<Dictionary<string, float>> TopLogprobs { get; set; } = [];

    /// <summary>Character offset of each token in the text.</summary>
    public List<int> TextOffset { get; set; } = [];
}
