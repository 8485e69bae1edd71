using System.CommandLine;
using System.Text;
using Quanta.Core.Templates;
using Quanta.Engine.Generation;
using Quanta.Engine.Sampling;

namespace Quanta.Cli;

/// <summary>
/// `quanta chat --model FILE [--system TEXT] [sampling options]`: an interactive conversation on stdin/stdout. Each
/// input line is a user turn; the whole history is rendered with the model's chat template (ChatML when it has none)
/// and the reply streams to stdout, followed by a newline. `/reset` clears the history, `/exit` or end of input ends
/// the session. The "&gt; " prompt (on a terminal), load progress and per-turn speeds go to stderr. Ctrl+C stops the
/// current reply.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var o = new GenerationCliOptions();
        var system = new Option<string?>("--system") { Description = "system message starting the conversation" };
        var cmd = new Command("chat", "Chat with a model interactively (stdin/stdout); /reset clears the history, /exit ends.");
        o.AddTo(cmd, system);
        cmd.SetAction(p => CliRunner.Run(p.GetValue(o.Verbose), () =>
        {
            SamplingParameters sampling = o.Sampling(p);
            using LlmModel model = o.LoadModel(p);
            string? systemText = p.GetValue(system);
            bool interactive = !Console.IsInputRedirected;
            if (interactive) Console.Error.WriteLine("chat: type a message; /reset clears the history, /exit ends");
            var history = new List<ChatMessage>();
            void Reset()
            {
                history.Clear();
                if (!string.IsNullOrEmpty(systemText)) history.Add(new ChatMessage("system", systemText));
            }
            Reset();

            using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 12) { AutoFlush = true };
            CancellationTokenSource? turn = null;
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                var t = Volatile.Read(ref turn);
                if (t is null) return;       // not generating: Ctrl+C ends the program as usual
                e.Cancel = true;
                t.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                while (true)
                {
                    if (interactive) Console.Error.Write("> ");
                    string? line = stdin.ReadLine();
                    if (line is null) break;
                    string command = line.Trim();
                    if (command == "/exit") break;
                    if (command == "/reset")
                    {
                        Reset();
                        Console.Error.WriteLine("chat: history cleared");
                        continue;
                    }
                    if (command.Length == 0) continue;

                    history.Add(new ChatMessage("user", line));
                    int[] prompt;
                    try
                    {
                        prompt = model.TokenizeChatPrompt(model.ApplyChatTemplate(history));
                        if (prompt.Length > model.ContextLength) throw new ContextLengthExceededException(prompt.Length, model.ContextLength);
                    }
                    catch (Exception e) when (e is ContextLengthExceededException or TemplateException)
                    {
                        history.RemoveAt(history.Count - 1);
                        if (e is TemplateException) throw new InvalidDataException($"the model's chat template failed: {e.Message}", e);
                        Console.Error.WriteLine($"quanta: error: {e.Message} (/reset clears the history)");
                        continue;
                    }

                    using var cts = new CancellationTokenSource();
                    Volatile.Write(ref turn, cts);
                    var reply = new StringBuilder();
                    GenerationChunk last;
                    try
                    {
                        last = RunCommand.StreamTo(model, prompt, sampling, new TeeWriter(stdout, reply), out _, cts.Token);
                    }
                    finally
                    {
                        Volatile.Write(ref turn, null);
                    }
                    stdout.Write('\n');
                    history.Add(new ChatMessage("assistant", reply.ToString()));
                    Console.Error.WriteLine(RunCommand.Speeds(last.Usage!, last.FinishReason!.Value));
                }
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>Writes text both to the console and into the reply being collected.</summary>
    private sealed class TeeWriter(TextWriter console, StringBuilder reply) : TextWriter
    {
        public override Encoding Encoding => console.Encoding;

        public override void Write(char value)
        {
            console.Write(value);
            reply.Append(value);
        }

        public override void Write(string? value)
        {
            console.Write(value);
            reply.Append(value);
        }
    }
}
