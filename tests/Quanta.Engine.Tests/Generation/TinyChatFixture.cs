using Quanta.Engine.Generation;

namespace Quanta.Engine.Tests.Generation;

/// <summary>
/// A <see cref="TinyChatGguf"/> model written to a temporary file and loaded once per test class (requests on one
/// model run one at a time); the file is deleted with the fixture.
/// </summary>
public sealed class TinyChatFixture : IDisposable
{
    public TinyChatFixture()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"quanta-tiny-chat-{Guid.NewGuid():N}.gguf");
        TinyChatGguf.Write(Path);
        Model = LlmModel.Load(Path, new LlmLoadOptions { Threads = 1 });
    }

    /// <summary>The GGUF file.</summary>
    public string Path { get; }

    /// <summary>The loaded model.</summary>
    public LlmModel Model { get; }

    public void Dispose()
    {
        Model.Dispose();
        File.Delete(Path);
    }
}
