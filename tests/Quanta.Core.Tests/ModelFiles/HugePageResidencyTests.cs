using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.ModelFiles;

public class HugePageResidencyTests
{
    [Fact]
    public void A_huge_page_copy_holds_the_mapped_files_metadata_and_tensor_bytes()
    {
        string path = SharedData.Get("testdata/gguf/llama-2-tiny-random.gguf");
        using GgufFile mapped = GgufFile.Open(path, FileResidency.Mapped);
        using GgufFile copy = GgufFile.Open(path, FileResidency.HugePages);
        Assert.Equal(mapped.FileSize, copy.FileSize);
        Assert.Equal(mapped.GetString("general.architecture"), copy.GetString("general.architecture"));
        Assert.Equal(mapped.Tensors.Count, copy.Tensors.Count);
        Assert.True(mapped.Tensors.Count > 0);
        for (int i = 0; i < mapped.Tensors.Count; i++)
        {
            Assert.Equal(mapped.Tensors[i].Name, copy.Tensors[i].Name);
            Assert.True(mapped.GetTensorData(mapped.Tensors[i]).SequenceEqual(copy.GetTensorData(copy.Tensors[i])), mapped.Tensors[i].Name);
        }
    }

    [Fact]
    public void A_huge_page_copy_refuses_views_after_dispose_and_empty_files()
    {
        GgufFile f = GgufFile.Open(SharedData.Get("testdata/gguf/llama-2-tiny-random.gguf"), FileResidency.HugePages);
        GgufTensorInfo t = f.Tensors[0];
        f.Dispose();
        Assert.Throws<ObjectDisposedException>(() => f.GetTensorData(t).Length);

        string empty = Path.Combine(Path.GetTempPath(), $"quanta-empty-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(empty, []);
        try { Assert.Throws<ModelFileException>(() => GgufFile.Open(empty, FileResidency.HugePages)); }
        finally { File.Delete(empty); }
    }
}
