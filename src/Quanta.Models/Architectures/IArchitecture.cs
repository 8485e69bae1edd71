using System.Text.Json;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures;

/// <summary>
/// One model family's hooks (llama.cpp style: one file per architecture). An architecture only reads its
/// hyper-parameters into a <see cref="ModelConfig"/> and names/loads its tensors into <see cref="ModelWeights"/>;
/// the forward pass is the shared <see cref="Runtime.DecoderModel"/>, configured by the flags in the config.
/// Implementations are stateless singletons registered in <see cref="ArchitectureRegistry"/>.
/// </summary>
public interface IArchitecture
{
    /// <summary>Canonical name (the GGUF general.architecture spelling), e.g. "llama".</summary>
    string Name { get; }

    /// <summary>GGUF general.architecture values this implementation accepts.</summary>
    IReadOnlyList<string> GgufNames { get; }

    /// <summary>Hugging Face config.json "architectures" values this implementation accepts (may be empty).</summary>
    IReadOnlyList<string> HuggingFaceNames { get; }

    /// <summary>Hyper-parameters from GGUF metadata.</summary>
    ModelConfig ReadConfig(GgufFile file);

    /// <summary>Weights from a GGUF file (views into its mapping: the file must outlive them).</summary>
    ModelWeights LoadWeights(GgufFile file, ModelConfig config);

    /// <summary>Hyper-parameters from a Hugging Face config.json root object.</summary>
    ModelConfig ReadConfig(JsonElement huggingFaceConfig);

    /// <summary>Weights from a Hugging Face safetensors checkpoint (views into its mapping when the dtype has a kernel).</summary>
    ModelWeights LoadWeights(SafetensorsCheckpoint checkpoint, ModelConfig config);
}
