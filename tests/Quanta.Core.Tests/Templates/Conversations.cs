using System.Text.Json.Nodes;
using Quanta.Core.Templates;

namespace Quanta.Core.Tests.Templates;

/// <summary>The conversation cases every template is rendered with (typed contexts).</summary>
public static class Conversations
{
    /// <summary>Pinned clock for strftime_now: 2025-03-05 00:00 (UTC in the oracle).</summary>
    public static readonly DateTime Now = new(2025, 3, 5, 0, 0, 0, DateTimeKind.Utc);

    public static long NowMs => new DateTimeOffset(Now).ToUnixTimeMilliseconds();

    private static JsonArray WeatherTools() => (JsonArray)JsonNode.Parse("""
        [{"type": "function", "function": {"name": "get_current_weather",
          "description": "Get the current weather in a given location",
          "parameters": {"type": "object", "properties": {
             "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
             "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
             "days": {"type": "integer", "minimum": 1, "maximum": 14.5}},
           "required": ["location"]}}},
         {"type": "function", "function": {"name": "search", "description": "Search the web for \"quoted\" text: é ü 漢字",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": []}}}]
        """)!;

    private static JsonArray ToolCall(string name, string argsJson, string id) => new()
    {
        new JsonObject
        {
            ["id"] = id,
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = JsonNode.Parse(argsJson) },
        },
    };

    private static ChatTemplateContext Ctx(string bos, string eos, bool? addGenerationPrompt, params ChatMessage[] messages)
    {
        var c = new ChatTemplateContext { BosToken = bos, EosToken = eos, AddGenerationPrompt = addGenerationPrompt, Clock = () => Now };
        foreach (var m in messages) c.Messages.Add(m);
        return c;
    }

    /// <summary>Named cases for a tokenizer with the given special tokens.</summary>
    public static List<(string Name, ChatTemplateContext Context)> All(string bos, string eos)
    {
        var cases = new List<(string, ChatTemplateContext)>
        {
            ("system+user, generation prompt", Ctx(bos, eos, true,
                new ChatMessage("system", "You are a helpful assistant."), new ChatMessage("user", "Hello!"))),
            ("user only, no generation prompt", Ctx(bos, eos, false, new ChatMessage("user", "  What is 2+2?  \n"))),
            ("user only, add_generation_prompt undefined", Ctx(bos, eos, null, new ChatMessage("user", "Hi"))),
            ("multi-turn", Ctx(bos, eos, true,
                new ChatMessage("user", "Hello, how are you?"),
                new ChatMessage("assistant", "I'm doing great. How can I help you today?"),
                new ChatMessage("user", "I'd like to show off how chat templating works!"))),
            ("system + two full turns", Ctx(bos, eos, false,
                new ChatMessage("system", "Be terse.\n"),
                new ChatMessage("user", "Name a colour."),
                new ChatMessage("assistant", "Blue."),
                new ChatMessage("user", "Another?"),
                new ChatMessage("assistant", " Red. "))),
            ("unicode and escapes", Ctx(bos, eos, true,
                new ChatMessage("user", "Ünïcødé 漢字 😀 \"quotes\" 'single' back\\slash\ttab\r\nCRLF {{ not a tag }} {% raw %}"))),
            ("content as list of text parts", Ctx(bos, eos, true,
                ChatMessage.WithTextParts("user", "Describe ", "this picture."))),
            ("roles not alternating", Ctx(bos, eos, true,
                new ChatMessage("user", "one"), new ChatMessage("user", "two"))),
            ("assistant first", Ctx(bos, eos, true,
                new ChatMessage("assistant", "I start."), new ChatMessage("user", "ok"))),
        };

        var withTools = Ctx(bos, eos, true, new ChatMessage("system", "You can call tools."), new ChatMessage("user", "What's the weather like in Oslo?"));
        withTools.Tools = WeatherTools();
        cases.Add(("tools list given", withTools));

        var toolsNoSystem = Ctx(bos, eos, true, new ChatMessage("user", "Weather in Paris in fahrenheit?"));
        toolsNoSystem.Tools = WeatherTools();
        cases.Add(("tools list, no system message", toolsNoSystem));

        var callFlow = Ctx(bos, eos, true,
            new ChatMessage("user", "What's the weather in Oslo?"),
            new ChatMessage("assistant", "") { ToolCalls = ToolCall("get_current_weather", """{"location": "Oslo, Norway", "unit": "celsius", "days": 2}""", "call12345") },
            new ChatMessage("tool", "{\"temperature\": 22.5, \"sky\": \"clear\"}") { ToolCallId = "call12345", Name = "get_current_weather" });
        callFlow.Tools = WeatherTools();
        cases.Add(("tool call and tool result", callFlow));

        var callFlowDone = Ctx(bos, eos, false,
            new ChatMessage("user", "Weather in Oslo and Bergen?"),
            new ChatMessage("assistant", "Let me check.") { ToolCalls = ToolCall("get_current_weather", """{"location": "Oslo"}""", "abcdefghi") },
            new ChatMessage("tool", "15") { ToolCallId = "abcdefghi" },
            new ChatMessage("tool", "12") { ToolCallId = "abcdefghi" },
            new ChatMessage("assistant", "Oslo 15°C, Bergen 12°C."),
            new ChatMessage("user", "Thanks"));
        callFlowDone.Tools = WeatherTools();
        cases.Add(("tool call with text, two tool results, follow-up", callFlowDone));

        var twoCalls = Ctx(bos, eos, true,
            new ChatMessage("user", "Both cities"),
            new ChatMessage("assistant", "")
            {
                ToolCalls = new JsonArray
                {
                    ToolCall("get_current_weather", """{"location": "Oslo"}""", "aaaaaaaaa")[0]!.DeepClone(),
                    ToolCall("search", """{"query": "Bergen \"weather\" ü"}""", "bbbbbbbbb")[0]!.DeepClone(),
                },
            });
        twoCalls.Tools = WeatherTools();
        cases.Add(("two tool calls in one message", twoCalls));

        var noThink = Ctx(bos, eos, true, new ChatMessage("user", "Quick answer please"));
        noThink.Variables["enable_thinking"] = false;
        cases.Add(("enable_thinking false", noThink));

        var think = Ctx(bos, eos, true, new ChatMessage("user", "Think first"));
        think.Variables["enable_thinking"] = true;
        cases.Add(("enable_thinking true", think));

        cases.Add(("reasoning_content on last assistant", Ctx(bos, eos, false,
            new ChatMessage("user", "What is 3*7?"),
            new ChatMessage("assistant", "21") { ReasoningContent = "\n3 times 7 is 21.\n" })));

        cases.Add(("reasoning_content then follow-up", Ctx(bos, eos, true,
            new ChatMessage("user", "What is 3*7?"),
            new ChatMessage("assistant", "21") { ReasoningContent = "3 times 7." },
            new ChatMessage("user", "And 3*8?"))));

        cases.Add(("think tags inside content", Ctx(bos, eos, false,
            new ChatMessage("user", "Hi"),
            new ChatMessage("assistant", "<think>\nThe user greets.\n</think>\n\nHello there!"))));

        var dated = Ctx(bos, eos, true, new ChatMessage("user", "What day is it?"));
        dated.Variables["date_string"] = "01 Jan 2030";
        cases.Add(("date_string given", dated));

        return cases;
    }
}
