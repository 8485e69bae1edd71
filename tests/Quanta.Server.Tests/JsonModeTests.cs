using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using ChatResponseFormat = OpenAI.Chat.ChatResponseFormat;

namespace Quanta.Server.Tests;

/// <summary>response_format: json_object constrains the output (plain HTTP, streaming and the OpenAI SDK); json_schema is refused.</summary>
public sealed class JsonModeTests
{
    private static void AssertObject(string? text, string context)
    {
        Assert.NotNull(text);
        try
        {
            using var doc = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }
        catch (JsonException e)
        {
            Assert.Fail($"not JSON ({e.Message}): {text} ({context})");
        }
    }

    [Fact]
    public async Task Json_object_answers_parse_and_json_schema_is_a_400()
    {
        await using var h = await ServerHarness.StartAsync();
        int seed0 = Random.Shared.Next(1, int.MaxValue - 100);
        for (int i = 0; i < 6; i++)
        {
            int seed = seed0 + i;
            var (status, body, _) = await h.PostAsync("/v1/chat/completions",
                $$$"""{"model":"tiny-chat","messages":[{"role":"user","content":"json please"}],"seed":{{{seed}}},"temperature":1.2,"max_tokens":40,"response_format":{"type":"json_object"}}""");
            Assert.Equal(200, status);
            AssertObject(body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), $"seed {seed}");
        }

        // streaming: the concatenated deltas form the object
        using (var req = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$$"""{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"seed":{{{seed0}}},"max_tokens":30,"stream":true,"response_format":{"type":"json_object"}}""", Encoding.UTF8, "application/json"),
        })
        {
            using HttpResponseMessage resp = await h.Http.SendAsync(req);
            string sse = await resp.Content.ReadAsStringAsync();
            var text = new StringBuilder();
            foreach (string line in sse.Split('\n'))
            {
                if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
                using var chunk = JsonDocument.Parse(line[6..]);
                var choices = chunk.RootElement.GetProperty("choices");
                if (choices.GetArrayLength() > 0 && choices[0].GetProperty("delta").TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                    text.Append(c.GetString());
            }
            AssertObject(text.ToString(), $"stream, seed {seed0}");
        }

        // the official SDK's json_object option
        ChatClient chat = h.OpenAI().GetChatClient("tiny-chat");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("json")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(), MaxOutputTokenCount = 30, Seed = seed0 });
        AssertObject(completion.Content[0].Text, $"sdk, seed {seed0}");

        // Microsoft.Extensions.AI's adapter maps ChatResponseFormat.Json to json_object
        Microsoft.Extensions.AI.IChatClient meai = chat.AsIChatClient();
        var meaiResponse = await meai.GetResponseAsync("json",
            new Microsoft.Extensions.AI.ChatOptions { ResponseFormat = Microsoft.Extensions.AI.ChatResponseFormat.Json, MaxOutputTokens = 30, Seed = seed0 + 1 });
        AssertObject(meaiResponse.Text, $"extensions.ai, seed {seed0 + 1}");

        var schema = await h.PostAsync("/v1/chat/completions",
            """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}}}""");
        Assert.Equal(400, schema.Status);
        Assert.Equal("response_format", schema.Body.GetProperty("error").GetProperty("param").GetString());
    }
}
