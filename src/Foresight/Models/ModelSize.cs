using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Models;

/// <summary>How the model knows where a token is.</summary>
public enum PositionEncoding
{
    /// <summary>A learned embedding per absolute position, added to the token embedding (GPT-2, nanoGPT).</summary>
    Learned,

    /// <summary>Rotary embeddings: queries and keys rotated by their position, so attention sees relative offsets (LLaMA, LLaDA, MDLM).</summary>
    Rotary,
}

/// <summary>The number format of a model's matrix multiplies; weights, norms, softmax, a Mamba's scan and the loss stay fp32 either way.</summary>
public enum Precision
{
    /// <summary>Every multiply in fp32.</summary>
    Fp32,

    /// <summary>
    /// Linear layers and attention products in bfloat16 (fp32 master weights, cast per use; the residual
    /// stream, norms, softmax and the output layer stay fp32): the CPUs here multiply bf16 about four times as fast.
    /// </summary>
    Bf16,
}

public static class PrecisionExtensions
{
    public static ScalarType ComputeType(this Precision precision) => precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
}

/// <summary>
/// The model size a user chooses; the vocabulary and context length come from the task. With the Mamba
/// backbone, heads and positions do not apply: its inner width is chosen so that its parameter count
/// matches the GPT's at the same width and depth.
/// </summary>
public sealed record ModelSize(int Layers, int Width, int Heads, PositionEncoding Positions = PositionEncoding.Learned, BackboneKind Backbone = BackboneKind.Gpt,
    Precision Precision = Precision.Bf16)
{
    public void Validate()
    {
        if (Backbone == BackboneKind.Mamba && Positions != PositionEncoding.Learned)
            throw new ConfigError("model.positions", "applies to model.backbone gpt; a Mamba's scan is ordered by construction");
        if (Layers < 1) throw new ConfigError("model.layers", $"must be at least 1, got {Layers}");
        if (Width < 1) throw new ConfigError("model.width", $"must be at least 1, got {Width}");
        if (Heads < 1) throw new ConfigError("model.heads", $"must be at least 1, got {Heads}");
        if (Backbone == BackboneKind.Gpt && Width % Heads != 0) throw new ConfigError("model.width", $"{Width} must be divisible by model.heads {Heads}");
        if (Positions == PositionEncoding.Rotary && Width / Heads % 2 != 0)
            throw new ConfigError("model.positions", $"rotary needs an even width per head, got model.width {Width} / model.heads {Heads} = {Width / Heads}");
    }

    public GptConfig ToGpt(ITask task, int blockSize, bool causal = true, int bidirectionalTail = 0) =>
        new(task.VocabularySize, blockSize, Layers, Width, Heads, causal, Positions, bidirectionalTail, Precision);

    /// <summary>The Mamba with about as many parameters as the causal GPT of this size would have.</summary>
    public MambaConfig ToMamba(ITask task, int blockSize) =>
        MambaConfig.Matching(task.VocabularySize, blockSize, Layers, Width, GptParameters(task.VocabularySize, blockSize)) with { Precision = Precision };

    /// <summary>The GPT's parameter count, from its shapes: embeddings, L blocks of 12C² + 13C, the final norm.</summary>
    public long GptParameters(int vocabularySize, int blockSize) =>
        (long)vocabularySize * Width + (Positions == PositionEncoding.Learned ? (long)blockSize * Width : 0)
        + Layers * (12L * Width * Width + 13L * Width) + 2L * Width;

    /// <summary>The sequence model of this size: a GPT (causal, bidirectional, or a causal prefix under a bidirectional tail) or a Mamba (causal only).</summary>
    public Backbone Build(ITask task, int blockSize, bool causal = true, int bidirectionalTail = 0, string who = "this method")
    {
        if (Backbone == BackboneKind.Gpt) return new Gpt(ToGpt(task, blockSize, causal, bidirectionalTail));
        if (!causal || bidirectionalTail > 0)
            throw new ConfigError("model.backbone", $"mamba is causal by construction, and {who} needs positions that see later ones; use gpt");
        return new Mamba(ToMamba(task, blockSize));
    }
}
