using Foresight.Tasks;

namespace Foresight.Models;

/// <summary>How the model knows where a token is.</summary>
public enum PositionEncoding
{
    /// <summary>A learned embedding per absolute position, added to the token embedding (GPT-2, nanoGPT).</summary>
    Learned,

    /// <summary>Rotary embeddings: queries and keys rotated by their position, so attention sees relative offsets (LLaMA, LLaDA, MDLM).</summary>
    Rotary,
}

/// <summary>The model size a user chooses; the vocabulary and context length come from the task.</summary>
public sealed record ModelSize(int Layers, int Width, int Heads, PositionEncoding Positions = PositionEncoding.Learned)
{
    public void Validate()
    {
        if (Layers < 1) throw new UserError($"--layers must be at least 1, got {Layers}");
        if (Width < 1) throw new UserError($"--width must be at least 1, got {Width}");
        if (Heads < 1) throw new UserError($"--heads must be at least 1, got {Heads}");
        if (Width % Heads != 0) throw new UserError($"--width {Width} must be divisible by --heads {Heads}");
        if (Positions == PositionEncoding.Rotary && Width / Heads % 2 != 0)
            throw new UserError($"--positions rotary needs an even width per head, got --width {Width} / --heads {Heads} = {Width / Heads}");
    }

    public GptConfig ToGpt(ITask task, int blockSize, bool causal = true, int bidirectionalTail = 0) =>
        new(task.VocabularySize, blockSize, Layers, Width, Heads, causal, Positions, bidirectionalTail);
}
