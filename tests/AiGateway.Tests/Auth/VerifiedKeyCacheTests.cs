using AiGateway.Auth;
using AiGateway.Configuration;

namespace AiGateway.Tests.Auth;

public class VerifiedKeyCacheTests
{
    private static readonly GatewayCaller Alice = new("alice", null, ModelMatcher.All);
    private static readonly GatewayCaller Bob = new("bob", null, ModelMatcher.All);

    [Fact]
    public void Find_OnlyTheExactVerifiedKey()
    {
        var cache = new VerifiedKeyCache();
        Assert.Null(cache.Find("sk-alice-0123456789"));

        cache.Add("sk-alice-0123456789", Alice);

        Assert.Same(Alice, cache.Find("sk-alice-0123456789"));
        Assert.Null(cache.Find("sk-alice-012345678"));    // a prefix
        Assert.Null(cache.Find("sk-alice-0123456780"));   // same length, last character differs
        Assert.Null(cache.Find("SK-ALICE-0123456789"));   // case matters
        Assert.Null(cache.Find("sk-alice-0123456789 "));
    }

    [Fact]
    public void Add_ManyKeys_StaysBoundedAndNeverAnswersForAnotherKey()
    {
        var cache = new VerifiedKeyCache();
        for (var i = 0; i < 10_000; i++) cache.Add($"sk-key-{i}", i % 2 == 0 ? Alice : Bob);

        var found = 0;
        for (var i = 0; i < 10_000; i++)
        {
            if (cache.Find($"sk-key-{i}") is { } caller)
            {
                found++;
                Assert.Same(i % 2 == 0 ? Alice : Bob, caller);
            }
            Assert.Null(cache.Find($"sk-other-{i}"));
        }
        // Direct-mapped: at most one key per slot survives, and the last ones added are there.
        Assert.InRange(found, 1, 1024);
        Assert.NotNull(cache.Find("sk-key-9999"));
    }
}
