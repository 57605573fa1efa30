using Foresight.Tasks;

namespace Foresight.Models;

/// <summary>The model size a user chooses; the vocabulary and context length come from the task.</summary>
public sealed record ModelSize(int Layers, int Width, int Heads)
{
    public GptConfig ToGpt(ITask task, int blockSize, bool causal = true) =>
        new(task.VocabularySize, blockSize, Layers, Width, Heads, causal);
}
