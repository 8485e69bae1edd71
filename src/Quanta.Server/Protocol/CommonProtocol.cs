using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quanta.Server.Protocol;

/// <summary>Fields chat and completions requests share.</summary>
public abstract class GenerationRequestBody
{
    /// <summary>Model id.</summary>
    public string? Model { get; set; }

    /// <summary>Most tokens to generate per choice.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>0..2; 0 is greedy. Default 1.</summary>
    public float? Temperature { get; set; }

    /// <summary>Nucleus mass in [0, 1].</summary>
    public float? TopP { get; set; }

    /// <summary>Keep the k most likely tokens (extension, as vLLM).</summary>
    public int? TopK { get; set; }

    /// <summary>min-p in [0, 1] (extension, as vLLM).</summary>
    public float? MinP { get; set; }

    /// <summary>Sampling seed.</summary>
    public long? Seed { get; set; }

    /// <summary>A string or an array of up to 4 strings.</summary>
    public JsonElement? Stop { get; set; }

    /// <summary>Choices to generate.</summary>
    public int? N { get; set; }

    /// <summary>[-2, 2].</summary>
    public float? PresencePenalty { get; set; }

    /// <summary>[-2, 2].</summary>
    public float? FrequencyPenalty { get; set; }

    /// <summary>Token id (as a string) → bias in [-100, 100].</summary>
    public Dictionary<string, float>? LogitBias { get; set; }

    /// <summary>End-user id (logged, not used otherwise).</summary>
    public string? User { get; set; }

    /// <summary>Keep generating past end-of-generation tokens until max_tokens (extension, as vLLM; for benchmarks).</summary>
    public bool? IgnoreEos { get; set; }

    /// <summary>Stream server-sent events.</summary>
    public bool? Stream { get; set; }

    /// <summary>Streaming options.</summary>
    public StreamOptionsBody? StreamOptions { get; set; }

    /// <summary>Quanta extension: scheduling priority, lower runs first. Default 0.</summary>
    public int? Priority { get; set; }

    /// <summary>Quanta extension: milliseconds from arrival after which the request ends with finish_reason "deadline".</summary>
    public long? DeadlineMs { get; set; }
}

/// <summary>usage (OpenAI's fields, plus Quanta's energy_joules, cost_usd and energy_source).</summary>
public sealed class UsageBody
{
    /// <summary>Prompt tokens.</summary>
    public int PromptTokens { get; set; }

    /// <summary>Generated tokens over all choices.</summary>
    public int CompletionTokens { get; set; }

    /// <summary>Sum.</summary>
    public int TotalTokens { get; set; }

    /// <summary>Prompt details.</summary>
    public PromptTokensDetails PromptTokensDetails { get; set; } = new();

    /// <summary>Energy in joules: the request's token share of every engine step it ran in (docs/metrics.md).</summary>
    public double EnergyJoules { get; set; }

    /// <summary>Cost in US dollars: its token share of those steps' time × the device's $/hour; absent when no price is configured.</summary>
    public double? CostUsd { get; set; }

    /// <summary>"estimated" when the energy comes from the power model, "measured" when from a meter (RAPL).</summary>
    public string EnergySource { get; set; } = "estimated";
}

/// <summary>prompt_tokens_details.</summary>
public sealed class PromptTokensDetails
{
    /// <summary>Prompt tokens served from the prefix cache.</summary>
    public int CachedTokens { get; set; }
}

/// <summary>{"error": {...}}.</summary>
public sealed class ErrorResponse
{
    /// <summary>The error.</summary>
    public ErrorBody Error { get; set; } = new();
}

/// <summary>OpenAI's error object.</summary>
public sealed class ErrorBody
{
    /// <summary>What went wrong.</summary>
    public string Message { get; set; } = "";

    /// <summary>invalid_request_error, authentication_error, rate_limit_error, server_error, service_unavailable.</summary>
    public string Type { get; set; } = "";

    /// <summary>The offending parameter, or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Param { get; set; }

    /// <summary>A machine-readable code, or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Code { get; set; }
}

/// <summary>GET /v1/models.</summary>
public sealed class ModelList
{
    /// <summary>"list".</summary>
    public string Object { get; set; } = "list";

    /// <summary>The models.</summary>
    public List<ModelCard> Data { get; set; } = [];
}

/// <summary>One model.</summary>
public sealed class ModelCard
{
    /// <summary>Model id.</summary>
    public string Id { get; set; } = "";

    /// <summary>"model".</summary>
    public string Object { get; set; } = "model";

    /// <summary>Unix seconds when it was loaded.</summary>
    public long Created { get; set; }

    /// <summary>"quanta".</summary>
    public string OwnedBy { get; set; } = "quanta";

    /// <summary>Context length (vLLM's field).</summary>
    public int MaxModelLen { get; set; }
}

/// <summary>POST /tokenize (vLLM's body): prompt, or messages rendered with the chat template.</summary>
public sealed class TokenizeRequest
{
    /// <summary>Model id.</summary>
    public string? Model { get; set; }

    /// <summary>Text to tokenize.</summary>
    public string? Prompt { get; set; }

    /// <summary>Messages to render and tokenize instead.</summary>
    public List<ChatMessageBody>? Messages { get; set; }

    /// <summary>Add BOS etc. (prompt only). Default true.</summary>
    public bool? AddSpecialTokens { get; set; }

    /// <summary>Append the assistant prompt (messages only). Default true.</summary>
    public bool? AddGenerationPrompt { get; set; }
}

/// <summary>POST /tokenize answer.</summary>
public sealed class TokenizeResponse
{
    /// <summary>Token count.</summary>
    public int Count { get; set; }

    /// <summary>Context length.</summary>
    public int MaxModelLen { get; set; }

    /// <summary>Token ids.</summary>
    public List<int> Tokens { get; set; } = [];
}

/// <summary>POST /detokenize body.</summary>
public sealed class DetokenizeRequest
{
    /// <summary>Model id.</summary>
    public string? Model { get; set; }

    /// <summary>Token ids.</summary>
    public List<int>? Tokens { get; set; }
}

/// <summary>POST /detokenize answer.</summary>
public sealed class DetokenizeResponse
{
    /// <summary>The text.</summary>
    public string Prompt { get; set; } = "";
}

/// <summary>GET /health and /ready.</summary>
public sealed class HealthResponse
{
    /// <summary>ok, loading or draining.</summary>
    public string Status { get; set; } = "ok";
}
