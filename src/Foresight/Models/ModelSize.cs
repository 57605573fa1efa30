using Foresight.Tasks;

namespace Foresight.Models;

/// <summary>The model size a user chooses; the vocabulary and context length come from the task.</summary>
public sealed record ModelSize(int Layers, int Width, int Heads)
{
    public void Validate()
    {
        if (Layers < 1) throw new UserError($"--layers must be at least 1, got {Layers}");
        if (Width < 1) throw new UserError($"--width must be at least 1, got {Width}");
        if (Heads < 1) throw new UserError($"--heads must be at least 1, got {Heads}");
        if (Width % Heads != 0) throw new UserError($"--width {Width} must be divisible by --heads {Heads}");
    }

    public GptConfig ToGpt(ITask task, int blockSize, bool causal = true) =>
        new(task.VocabularySize, blockSize, Layers, Width, Heads, causal);
}
