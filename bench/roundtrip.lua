-- wrk script: each request is a customer opening a conversation with a routine question, which
-- the desk stores durably together with the bot's answer (customer POST -> stored -> bot reply).
--   wrk -t2 -c32 -d10s -s bench/roundtrip.lua http://127.0.0.1:8080
-- Start the desk with TANDEM_RATE_LIMITS=false for this.
local questions = {
  "Wo ist meine Bestellung?", "How much is shipping?", "Welche Zahlungsarten gibt es?",
  "I forgot my password", "Wie lange dauert der Versand?", "I need a copy of my invoice",
  "Wie löse ich einen Gutschein ein?", "When is customer service available?",
}
local n = 0
wrk.method = "POST"
wrk.path = "/api/v1/conversations"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local q = questions[(n % #questions) + 1]
  return wrk.format(nil, nil, nil, '{"text":"' .. q .. '"}')
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d, errors %d (status %d), p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
