namespace Foresight.Tasks;

/// <summary>
/// A task whose answers a program can check exactly: the outcome reward of RL fine-tuning and the filter
/// of search decoding. Answers are target tokens in task order; a partial answer marks the positions not
/// yet written with <see cref="Unwritten"/>, so a method that writes right to left is checked as well.
/// </summary>
public interface IVerifiableTask : ITask
{
    const int Unwritten = -1;

    /// <summary>Whether a complete answer solves the example.</summary>
    bool Accepts(Example example, ReadOnlySpan<int> answer);

    /// <summary>Whether the positions written so far break none of the rules a partial answer can be held to.</summary>
    bool Admits(Example example, ReadOnlySpan<int> partial);
}
