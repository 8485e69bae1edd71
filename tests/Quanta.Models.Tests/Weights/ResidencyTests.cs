using Quanta.Core.ModelFiles;
using Quanta.Core.Threading;
using Quanta.Models.Tests.Support;

namespace Quanta.Models.Tests.Weights;

/// <summary><see cref="ModelLoader.Load(string, FileResidency?)"/>: a GGUF model mapped or copied into huge pages is
/// the same model (bit-identical logits); the choice is recorded on the file; other formats ignore it.</summary>
public sealed class ResidencyTests
{
    [Fact]
    public void Mapped_and_huge_page_weights_give_identical_logits()
    {
        string path = SharedData.Get("testdata/gguf/llama-2-tiny-random.gguf");
        using var mapped = ModelLoader.Load(path, FileResidency.Mapped);
        using var copied = ModelLoader.Load(path, FileResidency.HugePages);
        using var auto = ModelLoader.Load(path);
        Assert.Equal(FileResidency.Mapped, mapped.Gguf!.Residency);
        Assert.Equal(FileResidency.HugePages, copied.Gguf!.Residency);
        Assert.Equal(ModelLoader.DefaultResidency(new FileInfo(path).Length), auto.Gguf!.Residency);
        int[] prompt = [1, 15, 27, 3, 99];
        float[] a = Logits(mapped, prompt), b = Logits(copied, prompt);
        Assert.True(a.Length > 0 && a.Any(v => v != 0));
        Assert.Equal(a, b);
    }

    [Fact]
    public void Other_formats_ignore_the_residency()
    {
        using var model = ModelLoader.Load(SharedData.Get("testdata/llama2c/stories260K.bin"), FileResidency.HugePages);
        Assert.Equal(ModelSourceKind.Llama2c, model.Kind);
        Assert.Null(model.Gguf);
    }

    private static float[] Logits(LoadedModel model, int[] prompt)
    {
        using var pool = new WorkerPool(2);
        using var session = model.CreateSession(new SessionOptions { ContextLength = 16, Pool = pool });
        session.Prefill(prompt);
        return session.Decode(7).ToArray();
    }
}
