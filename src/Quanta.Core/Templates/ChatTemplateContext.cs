using System.Text.Json.Nodes;

namespace Quanta.Core.Templates;

/// <summary>
/// The variables a chat template is rendered with, as transformers' apply_chat_template passes
/// them: messages, tools, add_generation_prompt, bos_token, eos_token, plus extra variables
/// (enable_thinking, date_string, ...). Null properties are not defined for the template.
/// </summary>
public sealed class ChatTemplateContext
{
    /// <summary>The conversation.</summary>
    public IList<ChatMessage> Messages { get; } = new List<ChatMessage>();

    /// <summary>Tool definitions (JSON schema objects, usually {"type":"function","function":{...}}); null: not defined.</summary>
    public JsonArray? Tools { get; set; }

    /// <summary>Whether to append the assistant-turn prefix; null: not defined.</summary>
    public bool? AddGenerationPrompt { get; set; }

    /// <summary>The tokenizer's BOS token text; null: not defined.</summary>
    public string? BosToken { get; set; }

    /// <summary>The tokenizer's EOS token text; null: not defined.</summary>
    public string? EosToken { get; set; }

    /// <summary>Further top-level variables (e.g. enable_thinking), inserted after the typed ones.</summary>
    public IDictionary<string, JsonNode?> Variables { get; } = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);

    /// <summary>Clock for strftime_now (local wall time); defaults to <see cref="DateTime.Now"/>.</summary>
    public Func<DateTime>? Clock { get; set; }

    /// <summary>All variables as one JSON object (what the template sees).</summary>
    public JsonObject ToJson()
    {
        var messages = new JsonArray();
        foreach (var m in Messages) messages.Add(m.ToJson());
        var o = new JsonObject { ["messages"] = messages };
        if (Tools is not null) o["tools"] = Tools.DeepClone();
        if (AddGenerationPrompt is not null) o["add_generation_prompt"] = AddGenerationPrompt.Value;
        if (BosToken is not null) o["bos_token"] = BosToken;
        if (EosToken is not null) o["eos_token"] = EosToken;
        foreach (var (k, v) in Variables) o[k] = v?.DeepClone();
        return o;
    }
}
