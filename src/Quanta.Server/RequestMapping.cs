using System.Text.Json;
using System.Text.Json.Nodes;
using Quanta.Engine.Sampling;
using Quanta.Engine.Serving;
using Quanta.Server.Protocol;
using TemplateMessage = Quanta.Core.Templates.ChatMessage;

namespace Quanta.Server;

/// <summary>Turns request bodies into engine inputs, validating each field (400 naming the parameter).</summary>
internal static class RequestMapping
{
    public static SamplingParameters Sampling(GenerationRequestBody b, int? maxTokens, int serverMax, bool logprobs, int topLogprobs, int vocab)
    {
        if (maxTokens is < 1) throw ApiException.BadParam("max_tokens", $"max_tokens must be >= 1, got {maxTokens}");
        if (serverMax > 0 && maxTokens > serverMax)
            throw ApiException.BadParam("max_tokens", $"max_tokens {maxTokens} exceeds this server's limit of {serverMax}");
        if (b.Temperature is < 0 or > 2) throw ApiException.BadParam("temperature", $"temperature must be in [0, 2], got {b.Temperature}");
        if (b.TopP is < 0 or > 1) throw ApiException.BadParam("top_p", $"top_p must be in [0, 1], got {b.TopP}");
        if (b.TopK is < -1) throw ApiException.BadParam("top_k", $"top_k must be >= 0 (or -1 for off), got {b.TopK}");
        if (b.MinP is < 0 or > 1) throw ApiException.BadParam("min_p", $"min_p must be in [0, 1], got {b.MinP}");
        if (b.N is < 1 or > 16) throw ApiException.BadParam("n", $"n must be in 1..16, got {b.N}");
        if (b.PresencePenalty is < -2 or > 2) throw ApiException.BadParam("presence_penalty", $"presence_penalty must be in [-2, 2], got {b.PresencePenalty}");
        if (b.FrequencyPenalty is < -2 or > 2) throw ApiException.BadParam("frequency_penalty", $"frequency_penalty must be in [-2, 2], got {b.FrequencyPenalty}");
        if (topLogprobs is < 0 or > 20) throw ApiException.BadParam("top_logprobs", $"top_logprobs must be in 0..20, got {topLogprobs}");
        if (topLogprobs > 0 && !logprobs) throw ApiException.BadParam("top_logprobs", "top_logprobs requires logprobs: true");
        if (b.DeadlineMs is <= 0) throw ApiException.BadParam("deadline_ms", $"deadline_ms must be > 0, got {b.DeadlineMs}");
        Dictionary<int, float>? bias = null;
        if (b.LogitBias is { Count: > 0 })
        {
            bias = [];
            foreach (var (key, value) in b.LogitBias)
            {
                if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) || id >= vocab)
                    throw ApiException.BadParam("logit_bias", $"logit_bias key '{key}' is not a token id in 0..{vocab - 1}");
                if (value is < -100 or > 100) throw ApiException.BadParam("logit_bias", $"logit_bias values must be in [-100, 100], got {value}");
                bias[id] = value;
            }
        }
        int? limit = maxTokens ?? (serverMax > 0 ? serverMax : null);
        return new SamplingParameters
        {
            Temperature = b.Temperature ?? 1f,
            TopP = b.TopP ?? 1f,
            TopK = b.TopK is > 0 ? b.TopK.Value : 0,
            MinP = b.MinP ?? 0f,
            Seed = b.Seed is long s ? unchecked((ulong)s) : null,
            Stop = Stops(b.Stop),
            N = b.N ?? 1,
            PresencePenalty = b.PresencePenalty ?? 0,
            FrequencyPenalty = b.FrequencyPenalty ?? 0,
            LogitBias = bias,
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            MaxTokens = limit,
            RepetitionPenalty = 1f,
        };
    }

    public static string[] Stops(JsonElement? stop)
    {
        if (stop is not { } e || e.ValueKind == JsonValueKind.Null) return [];
        if (e.ValueKind == JsonValueKind.String) return [e.GetString()!];
        if (e.ValueKind != JsonValueKind.Array) throw ApiException.BadParam("stop", "stop must be a string or an array of strings");
        var list = new List<string>();
        foreach (JsonElement x in e.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.String) throw ApiException.BadParam("stop", "stop must be a string or an array of strings");
            list.Add(x.GetString()!);
        }
        if (list.Count > 4) throw ApiException.BadParam("stop", $"at most 4 stop sequences, got {list.Count}");
        return list.ToArray();
    }

    public static DateTimeOffset? Deadline(GenerationRequestBody b, DateTimeOffset arrival) =>
        b.DeadlineMs is long ms ? arrival.AddMilliseconds(ms) : null;

    public static List<TemplateMessage> Messages(List<ChatMessageBody>? messages)
    {
        if (messages is null || messages.Count == 0) throw ApiException.BadParam("messages", "messages must be a non-empty array");
        var list = new List<TemplateMessage>(messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            ChatMessageBody m = messages[i] ?? throw ApiException.BadParam($"messages[{i}]", "a message must be an object");
            string role = m.Role switch
            {
                "system" or "user" or "assistant" or "tool" => m.Role,
                "developer" => "system",
                _ => throw ApiException.BadParam($"messages[{i}].role", $"role must be system, developer, user, assistant or tool, got '{m.Role}'"),
            };
            var tm = new TemplateMessage(role, Content(m.Content, i)) { Name = m.Name, ToolCallId = m.ToolCallId };
            if (m.ToolCalls is { ValueKind: JsonValueKind.Array } calls) tm.ToolCalls = JsonNode.Parse(calls.GetRawText()) as JsonArray;
            list.Add(tm);
        }
        return list;
    }

    private static string? Content(JsonElement? content, int i)
    {
        if (content is not { } c || c.ValueKind == JsonValueKind.Null) return null;
        if (c.ValueKind == JsonValueKind.String) return c.GetString();
        if (c.ValueKind != JsonValueKind.Array) throw ApiException.BadParam($"messages[{i}].content", "content must be a string or an array of text parts");
        var sb = new System.Text.StringBuilder();
        foreach (JsonElement part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out JsonElement t) || t.GetString() != "text"
                || !part.TryGetProperty("text", out JsonElement text) || text.ValueKind != JsonValueKind.String)
                throw ApiException.BadParam($"messages[{i}].content", "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
            sb.Append(text.GetString());
        }
        return sb.ToString();
    }

    /// <summary>Prompt tokens of a completions prompt: a string, one-string array, or token ids.</summary>
    public static int[] CompletionPrompt(JsonElement? prompt, ServingEngine engine)
    {
        if (prompt is not { } p || p.ValueKind == JsonValueKind.Null) throw ApiException.BadParam("prompt", "prompt is required");
        if (p.ValueKind == JsonValueKind.String) return engine.Model.Tokenize(p.GetString()!);
        if (p.ValueKind != JsonValueKind.Array) throw ApiException.BadParam("prompt", "prompt must be a string, an array of token ids, or an array of one string");
        int len = p.GetArrayLength();
        if (len == 1 && p[0].ValueKind == JsonValueKind.String) return engine.Model.Tokenize(p[0].GetString()!);
        if (len > 0 && p[0].ValueKind is JsonValueKind.String or JsonValueKind.Array)
            throw ApiException.BadParam("prompt", "batched prompts are not supported: send one prompt per request");
        var ids = new int[len];
        int vocab = engine.Model.Tokenizer.VocabSize;
        for (int i = 0; i < len; i++)
        {
            if (p[i].ValueKind != JsonValueKind.Number || !p[i].TryGetInt32(out ids[i]) || (uint)ids[i] >= (uint)vocab)
                throw ApiException.BadParam("prompt", $"prompt[{i}] is not a token id in 0..{vocab - 1}");
        }
        return ids;
    }

    public static string FinishReason(ServingFinishReason r) => r switch
    {
        ServingFinishReason.Stop => "stop",
        ServingFinishReason.Length => "length",
        ServingFinishReason.Cancelled => "cancelled",
        ServingFinishReason.Deadline => "deadline",
        _ => "aborted",
    };

    public static UsageBody Usage(ServingUsage u) => new()
    {
        PromptTokens = u.PromptTokens,
        CompletionTokens = u.CompletionTokens,
        TotalTokens = u.TotalTokens,
        PromptTokensDetails = new PromptTokensDetails { CachedTokens = u.CachedTokens },
        EnergyJoules = u.EnergyJoules,
        CostUsd = u.CostUsd,
        EnergySource = u.EnergyEstimated ? "estimated" : "measured",
    };

    public static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;
}
