using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Access;

public partial class AccessApiTests : AppTests
{
    private HttpClient WithKey(string key)
    {
        var client = App.AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    [Fact]
    public async Task A_person_creates_a_key_within_their_role_sees_it_once_and_revokes_it_at_once()
    {
        var contributor = await App.ClientAsAsync(Role.Contributor);

        var created = await contributor.PostAsync("/api/v1/keys", Json("""{"name": "ci-uploader", "scopes": ["read", "write"]}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        var secret = body.GetProperty("secret").GetString()!;
        Assert.Matches("^rk_[a-z0-9]{10}_[A-Za-z0-9_-]{40,}$", secret);
        Assert.Equal("read,write", body.GetProperty("key").GetProperty("scopes").GetString());

        var key = WithKey(secret);
        Assert.Equal(HttpStatusCode.Created, (await key.UploadAsync("from-ci", OnnxModels.Identity())).StatusCode);
        var listed = await contributor.GetStringAsync("/api/v1/keys");
        Assert.Contains("ci-uploader", listed);
        Assert.DoesNotContain(secret, listed);
        Assert.DoesNotContain(secret[15..], listed);

        var id = body.GetProperty("key").GetProperty("id").GetInt64();
        (await contributor.DeleteAsync($"/api/v1/keys/{id}")).EnsureSuccessStatusCode();
        var refused = await (await key.GetAsync("/api/v1/models")).ProblemAsync(401);
        Assert.Contains("'ci-uploader' was revoked", refused.GetProperty("detail").GetString());
        var stored = await App.DbAsync(db => db.ApiKeys.SingleAsync(k => k.Name == "ci-uploader"));
        Assert.DoesNotContain(secret, stored.SecretHash);
        Assert.Equal(64, stored.SecretHash.Length);
    }

    [Fact]
    public async Task A_key_never_carries_more_than_its_owners_role_or_the_key_that_created_it()
    {
        var viewer = await App.ClientAsAsync(Role.Viewer);
        // A viewer's key holds only "read": it cannot even create keys.
        var noWrite = await (await viewer.PostAsync("/api/v1/keys", Json("""{"name": "x", "scopes": ["read"]}"""))).ProblemAsync(403);
        Assert.Contains("needs an API key with the 'write' scope", noWrite.GetProperty("detail").GetString());

        var writeOnly = await App.ClientAsAsync(Role.Admin, Scopes.Write);
        var wider = await (await writeOnly.PostAsync("/api/v1/keys", Json("""{"name": "wider", "scopes": ["read", "write"]}"""))).ProblemAsync(403);
        Assert.Contains("may give write, not read", wider.GetProperty("detail").GetString());

        var invalid = await (await Admin.PostAsync("/api/v1/keys", Json("""{"name": "", "scopes": ["everything"]}"""))).ProblemAsync(422);
        Assert.True(invalid.GetProperty("errors").TryGetProperty("scopes", out _));
    }

    [Fact]
    public async Task Admins_create_keys_for_service_accounts_only()
    {
        var service = await (await Admin.PostAsync("/api/v1/users", Json("""{"name": "deployer", "role": "Viewer", "service": true}"""))).JsonAsync();
        Assert.True(service.GetProperty("oneTimePassword").ValueKind == JsonValueKind.Null);
        var key = await Admin.PostAsync("/api/v1/users/deployer/keys", Json("""{"name": "prod", "scopes": ["read"]}"""));
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        var deployer = WithKey((await key.JsonAsync()).GetProperty("secret").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await deployer.GetAsync("/api/v1/models")).StatusCode);

        await Admin.PostAsync("/api/v1/users", Json("""{"name": "alice", "role": "Contributor"}"""));
        var person = await (await Admin.PostAsync("/api/v1/users/alice/keys", Json("""{"name": "k", "scopes": ["read"]}"""))).ProblemAsync(409);
        Assert.Contains("'alice' is a person", person.GetProperty("detail").GetString());
        var tooMuch = await (await Admin.PostAsync("/api/v1/users/deployer/keys", Json("""{"name": "w", "scopes": ["write"]}"""))).ProblemAsync(403);
        Assert.Contains("'deployer' (Viewer) may give read", tooMuch.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_role_change_or_a_disabled_account_takes_effect_on_the_next_request()
    {
        await App.EnsureServiceAccountAsync("builder", Role.Contributor);
        var builder = WithKey(await App.CreateKeyAsync("builder", Scopes.All, "build"));
        Assert.Equal(HttpStatusCode.Created, (await builder.UploadAsync("built", OnnxModels.Identity())).StatusCode);

        (await Admin.PatchAsync("/api/v1/users/builder", Json("""{"role": "Viewer"}"""))).EnsureSuccessStatusCode();
        var demoted = await (await builder.UploadAsync("built", OnnxModels.Identity("2"))).ProblemAsync(403);
        Assert.Contains("needs the Contributor role; 'builder' is a Viewer", demoted.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await builder.GetAsync("/api/v1/models")).StatusCode);

        (await Admin.PatchAsync("/api/v1/users/builder", Json("""{"disabled": true}"""))).EnsureSuccessStatusCode();
        var disabled = await (await builder.GetAsync("/api/v1/models")).ProblemAsync(401);
        Assert.Contains("owns this key is disabled", disabled.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task People_get_one_time_passwords_and_admins_cannot_lock_themselves_out()
    {
        var created = await Admin.PostAsync("/api/v1/users", Json("""{"name": "bob", "role": "Approver"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        Assert.Equal(20, body.GetProperty("oneTimePassword").GetString()!.Length);
        Assert.True(body.GetProperty("user").GetProperty("mustChangePassword").GetBoolean());
        await (await Admin.PostAsync("/api/v1/users", Json("""{"name": "BOB", "role": "Viewer"}"""))).ProblemAsync(409);

        var reset = await (await Admin.PatchAsync("/api/v1/users/bob", Json("""{"resetPassword": true}"""))).JsonAsync();
        Assert.NotEqual(body.GetProperty("oneTimePassword").GetString(), reset.GetProperty("oneTimePassword").GetString());

        var self = await (await Admin.PatchAsync("/api/v1/users/admin", Json("""{"role": "Viewer"}"""))).ProblemAsync(409);
        Assert.Contains("cannot take away your own Admin role", self.GetProperty("detail").GetString());
        var users = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        Assert.Contains(users.EnumerateArray(), u => u.GetProperty("name").GetString() == "bob" && u.GetProperty("role").GetString() == "Approver");
    }

    [Fact]
    public async Task Anonymous_read_is_off_until_an_admin_allows_it_and_never_extends_to_writes()
    {
        var anonymous = App.AnonymousClient();
        await (await anonymous.GetAsync("/api/v1/models")).ProblemAsync(401);

        (await Admin.PatchAsync("/api/v1/settings", Json("""{"allowAnonymousRead": true}"""))).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/v1/models")).StatusCode);
        await (await anonymous.UploadAsync("anon", OnnxModels.Identity())).ProblemAsync(401);
        await (await anonymous.GetAsync("/api/v1/users")).ProblemAsync(401);
    }

    [Fact]
    public async Task The_command_line_prints_only_a_key_that_works_and_is_audited()
    {
        // Run in this process's build output against this app's data folder.
        var (exit, output, error) = await ServerProcess.RunCommandAsync("apikey", "create", "--user", "admin", "--scopes", "read", "--name", "ops",
            $"--Registry:Storage:DataDirectory={App.DataDirectory}");

        Assert.True(exit == 0, error);
        var key = output.Trim();
        Assert.Matches("^rk_[a-z0-9]{10}_[A-Za-z0-9_-]+$", key);
        Assert.Equal(HttpStatusCode.OK, (await WithKey(key).GetAsync("/api/v1/models")).StatusCode);
        var events = await App.DbAsync(db => db.AuditEvents.Where(e => e.Action == "key.created" && e.Target == "key:admin/ops").Select(e => e.Actor).ToListAsync());
        Assert.Equal(["admin (cli)"], events);

        var (badExit, _, badError) = await ServerProcess.RunCommandAsync("apikey", "create", "--user", "nobody", "--name", "x",
            $"--Registry:Storage:DataDirectory={App.DataDirectory}");
        Assert.Equal(1, badExit);
        Assert.Contains("no enabled user named 'nobody'", badError);
    }

    [Fact]
    public async Task Responses_carry_security_headers()
    {
        foreach (var response in new[] { await Admin.GetAsync("/api/v1/models"), await App.AnonymousClient().GetAsync("/login") })
        {
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.Contains("script-src 'self'", csp);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        }
    }

    [Fact]
    public async Task A_burst_beyond_the_budget_gets_429_with_Retry_After()
    {
        await using var app = new RegistryApp(new Dictionary<string, string?> { ["Registry:RateLimit:PermitsPerMinute"] = "10" });
        var client = app.CreateClient();
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 20; i++) statuses.Add(await client.GetAsync("/api/v1/models"));

        var limited = statuses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Contains("request budget", (await limited.ProblemAsync(429)).GetProperty("detail").GetString());
        Assert.True(statuses.Count(r => r.IsSuccessStatusCode) >= 9);
        // Another caller has a budget of its own.
        Assert.Equal(HttpStatusCode.OK, (await (await app.ClientAsAsync(Role.Viewer)).GetAsync("/api/v1/models")).StatusCode);
    }

    [Fact]
    public async Task Guessed_keys_from_one_address_get_429_once_its_budget_of_refusals_is_spent()
    {
        var clock = new ManualClock();
        await using var app = new RegistryApp(new Dictionary<string, string?> { ["Registry:RateLimit:FailedAuthenticationsPerMinute"] = "5" }, clock: clock);
        var valid = await app.ClientAsAsync(Role.Viewer);
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/api/v1/models")).StatusCode); // an accepted key spends nothing
        var guesser = app.AnonymousClient();
        async Task<HttpResponseMessage> GuessAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", $"rk_{Guid.NewGuid():N}_{Guid.NewGuid():N}");
            return await guesser.SendAsync(request);
        }
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++) statuses.Add(await GuessAsync());

        Assert.Equal([.. Enumerable.Repeat(401, 5), .. Enumerable.Repeat(429, 3)], statuses.Select(r => (int)r.StatusCode));
        var limited = statuses.Last();
        Assert.Equal("60", limited.Headers.GetValues("Retry-After").Single());
        Assert.Contains("Too many refused API keys from this address", (await limited.ProblemAsync(429)).GetProperty("detail").GetString());
        // Before any lookup no key can be told from another, so keys from that address wait too;
        // requests without a key are not held back.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await valid.GetAsync("/api/v1/models")).StatusCode);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await app.AnonymousClient().GetAsync("/api/v1/models")).StatusCode);

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/api/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GuessAsync()).StatusCode);
    }

    [Fact]
    public async Task Repeated_wrong_passwords_lock_the_account_and_are_audited()
    {
        await App.CreatePersonAsync("carol", Role.Viewer, "carols-long-password");
        var browser = App.BrowserClient();
        for (var i = 0; i < 5; i++)
        {
            var wrong = await SignInAsync(browser, "carol", "not-her-password");
            Assert.Contains("error=", wrong);
        }
        var right = await SignInAsync(browser, "carol", "carols-long-password");
        Assert.Contains("error=locked", right);
        var failures = await App.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "account.signin_failed" && e.Actor == "carol"));
        Assert.Equal(6, failures);
    }

    [Fact]
    public async Task A_cookie_session_needs_the_pages_antiforgery_token_to_change_anything()
    {
        await App.CreatePersonAsync("dora", Role.Contributor, "doras-long-password");
        var browser = App.BrowserClient();
        Assert.Equal("/", await SignInAsync(browser, "dora", "doras-long-password"));

        var withoutToken = await browser.PostAsync("/api/v1/models", Json("""{"name": "by-cookie"}"""));
        Assert.Equal("Missing antiforgery token", (await withoutToken.ProblemAsync(403)).GetProperty("title").GetString());

        var token = await TokenFromAsync(browser, "/account/password");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/models") { Content = Json("""{"name": "by-cookie"}""") };
        request.Headers.Add("X-CSRF-TOKEN", token);
        Assert.Equal(HttpStatusCode.Created, (await browser.SendAsync(request)).StatusCode);
        var createdBy = await App.DbAsync(db => db.Models.Where(m => m.Name == "by-cookie").Select(m => m.CreatedBy).SingleAsync());
        Assert.Equal("dora", createdBy);
    }

    /// <summary>Posts the sign-in form as a browser would; returns where it redirects.</summary>
    private static async Task<string> SignInAsync(HttpClient browser, string user, string password)
    {
        var token = await TokenFromAsync(browser, "/login");
        var response = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = user,
            ["password"] = password,
            ["returnUrl"] = "/",
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }

    private static async Task<string> TokenFromAsync(HttpClient browser, string page)
    {
        var html = await browser.GetStringAsync(page);
        return System.Net.WebUtility.HtmlDecode(TokenField().Match(html).Groups[1].Value);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
