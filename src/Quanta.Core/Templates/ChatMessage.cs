using System.Text.Json.Nodes;

namespace Quanta.Core.Templates;

/// <summary>
/// One chat message as chat templates see it (an OpenAI-style message object). Null properties
/// are left out of the message object (the template sees them as undefined); use
/// <see cref="Extra"/> for any other key, or to pass an explicit JSON null.
/// </summary>
public sealed class ChatMessage
{
    /// <summary>Creates a message with a role and string content.</summary>
    public ChatMessage(string role, string? content = null)
    {
        Role = role;
        Content = content is null ? null : JsonValue.Create(content);
    }

    /// <summary>system, user, assistant, tool, ...</summary>
    public string Role { get; set; }

    /// <summary>A JSON string, or a JSON array of parts such as {"type":"text","text":"..."}.</summary>
    public JsonNode? Content { get; set; }

    /// <summary>Assistant tool calls: [{"type":"function","function":{"name":..,"arguments":{..}},"id":..}].</summary>
    public JsonArray? ToolCalls { get; set; }

    /// <summary>For tool results: the id of the call being answered.</summary>
    public string? ToolCallId { get; set; }

    /// <summary>Optional participant or tool name.</summary>
    public string? Name { get; set; }

    /// <summary>Assistant reasoning text (Qwen3 renders it inside &lt;think&gt;).</summary>
    public string? ReasoningContent { get; set; }

    /// <summary>Further keys of the message object (inserted after the typed ones, in order).</summary>
    public IDictionary<string, JsonNode?> Extra { get; } = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);

    /// <summary>Content given as a list of text parts ({"type":"text","text":...}).</summary>
    public static ChatMessage WithTextParts(string role, params string[] parts)
    {
        var array = new JsonArray();
        foreach (var p in parts) array.Add(new JsonObject { ["type"] = "text", ["text"] = p });
        return new ChatMessage(role) { Content = array };
    }

    /// <summary>The message as a JSON object (key order: role, content, tool_calls, tool_call_id, name, reasoning_content, extras).</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["role"] = Role };
        if (Content is not null) o["content"] = Content.DeepClone();
        if (ToolCalls is not null) o["tool_calls"] = ToolCalls.DeepClone();
        if (ToolCallId is not null) o["tool_call_id"] = ToolCallId;
        if (Name is not null) o["name"] = Name;
        if (ReasoningContent is not null) o["reasoning_content"] = ReasoningContent;
        foreach (var (k, v) in Extra) o[k] = v?.DeepClone();
        return o;
    }
}
