using System.Net;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Access;

/// <summary>
/// Key expiry on a manual clock: with a real one, a loaded machine could spend the key's whole
/// lifetime between creating it and its first use, and the test would fail for being slow.
/// </summary>
public class KeyExpiryTests : AppTests
{
    private readonly ManualClock _clock;

    public KeyExpiryTests() : this(new ManualClock()) { }

    private KeyExpiryTests(ManualClock clock) : base(new RegistryApp(clock: clock)) => _clock = clock;

    [Fact]
    public async Task An_expired_key_stops_working_and_says_so()
    {
        var expires = _clock.GetUtcNow().AddSeconds(2);
        var created = await (await Admin.PostAsync("/api/v1/keys", Json($$"""{"name": "short", "scopes": ["read"], "expiresAt": "{{expires:O}}"}"""))).JsonAsync();
        var key = App.AnonymousClient();
        key.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", created.GetProperty("secret").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await key.GetAsync("/api/v1/models")).StatusCode);

        _clock.Advance(TimeSpan.FromSeconds(2.5));
        var refused = await (await key.GetAsync("/api/v1/models")).ProblemAsync(401);
        Assert.Contains("'short' expired", refused.GetProperty("detail").GetString());
    }
}
