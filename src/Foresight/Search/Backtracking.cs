using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Search;

/// <summary>
/// Depth-first search over the model's ranked alternatives: at each step try the tokens in the model's
/// order of preference, skip one the verifier rules out (for path-star: not an edge from the previous node,
/// or a last node that is not the goal), take back a complete answer it rejects, and backtrack when a step
/// has no alternative left. "Wrap a verifier around the NTP backbone", with its cost counted: every token
/// written, including those taken back, and every model call. Each instance searches on its own; the
/// instances that wait for a model call with answers of the same length share one forward pass.
/// </summary>
public sealed class Backtracking(int budget) : ISearchDecoder
{
    public const int DefaultBudget = 100;

    /// <summary>Model calls allowed per instance before its search gives up.</summary>
    public int Budget { get; } = budget > 0 ? budget : throw new UserError($"--search-budget must be at least 1, got {budget}");

    public string Name => "backtrack";

    public IReadOnlyList<SearchResult> Decode(IStepwiseDecoder model, IVerifiableTask task, IReadOnlyList<Example> examples, Tensor prefix)
    {
        var searches = examples.Select(e => new InstanceSearch(task, e, model.WritingOrder, Budget)).ToArray();
        while (true)
        {
            var waiting = Enumerable.Range(0, searches.Length).Where(i => !searches[i].Done).ToList();
            if (waiting.Count == 0) break;
            foreach (var group in waiting.GroupBy(i => searches[i].Written.Count))
            {
                using var scope = NewDisposeScope();
                int[] rows = [.. group];
                var written = tensor(rows.SelectMany(i => searches[i].Written).ToArray(), dtype: ScalarType.Int64).view(rows.Length, group.Key);
                var logits = model.NextTokenLogits(prefix.index_select(0, tensor(rows.Select(i => (long)i).ToArray())), written); // (G, V)
                long[] ranked = logits.argsort(-1, descending: true).data<long>().ToArray();
                int vocabulary = (int)logits.shape[1];
                for (int g = 0; g < rows.Length; g++)
                    searches[rows[g]].Receive([.. ranked.AsSpan(g * vocabulary, vocabulary).ToArray().Select(t => (int)t)]);
            }
        }
        return [.. searches.Select(s => s.Result)];
    }

    /// <summary>One instance's search, advanced one model call at a time.</summary>
    private sealed class InstanceSearch(IVerifiableTask task, Example example, IReadOnlyList<int> order, int budget)
    {
        private readonly int[] _answer = Enumerable.Repeat(IVerifiableTask.Unwritten, order.Count).ToArray(); // task order
        private readonly Stack<Alternatives> _steps = new();
        private int _tokens, _calls;

        /// <summary>The tokens written so far, in writing order: the input of the model call this search waits for.</summary>
        public List<long> Written { get; } = [];
        public bool Done { get; private set; }
        public SearchResult Result { get; private set; } = null!;

        /// <summary>Takes the model's ranking of the next token and searches on until it needs the next ranking or ends.</summary>
        public void Receive(int[] ranked)
        {
            _calls++;
            _steps.Push(new Alternatives(ranked));
            while (_steps.Count > 0)
            {
                if (!_steps.Peek().TryNext(out int token))
                {
                    _steps.Pop(); // no alternative left here: take back the token that led to this step
                    if (Written.Count > 0) TakeBack();
                    continue;
                }

                int position = order[Written.Count];
                _answer[position] = token;
                if (!task.Admits(example, _answer)) { _answer[position] = IVerifiableTask.Unwritten; continue; }
                Written.Add(token);
                _tokens++;

                if (Written.Count < order.Count)
                {
                    if (_calls == budget) break;
                    return; // wait for the ranking after this token
                }
                if (task.Accepts(example, _answer)) { End(_answer); return; }
                TakeBack();
            }
            End(Enumerable.Repeat(IVerifiableTask.Unwritten, order.Count).ToArray()); // searched everything, or out of budget
        }

        private void TakeBack()
        {
            _answer[order[Written.Count - 1]] = IVerifiableTask.Unwritten;
            Written.RemoveAt(Written.Count - 1);
        }

        private void End(int[] answer)
        {
            Done = true;
            Result = new SearchResult(answer, _tokens, _calls);
        }
    }

    /// <summary>The tokens of one step, most preferred first, and how many have been tried.</summary>
    private sealed class Alternatives(int[] ranked)
    {
        private int _tried;

        public bool TryNext(out int token)
        {
            token = _tried < ranked.Length ? ranked[_tried++] : IVerifiableTask.Unwritten;
            return token != IVerifiableTask.Unwritten;
        }
    }
}
