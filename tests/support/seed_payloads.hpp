// The example payloads of the seed documents (W&B automation docs, "예제 페이로드"), verbatim,
// for the template tests and benchmarks.
#pragma once

#include <string_view>

namespace herald::test {

/// GitHub repository_dispatch (triggers a GitHub Actions workflow).
inline constexpr std::string_view github_repository_dispatch = R"({
    "event_type": "BUILD_AND_DEPLOY",
    "client_payload": 
    {
      "event_author": "${event_author}",
      "artifact_version": "${artifact_version}",
      "artifact_version_string": "${artifact_version_string}",
      "artifact_collection_name": "${artifact_collection_name}",
      "project_name": "${project_name}",
      "entity_name": "${entity_name}"
      }
  })";

/// Microsoft Teams MessageCard for an incoming webhook.
inline constexpr std::string_view teams_message_card = R"({
  "@type": "MessageCard",
  "@context": "http://schema.org/extensions",
  "summary": "New Notification",
  "sections": [
    {
      "activityTitle": "Notification from WANDB",
      "text": "This is an example message sent via Teams webhook.",
      "facts": [
        {
          "name": "Author",
          "value": "${event_author}"
        },
        {
          "name": "Event Type",
          "value": "${event_type}"
        }
      ],
      "markdown": true
    }
  ]
  })";

/// Slack Block Kit message for an incoming webhook.
inline constexpr std::string_view slack_blocks = R"(    {
        "text": "New alert from WANDB!",
    "blocks": [
        {
                "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Registry event: ${event_type}"
            }
        },
            {
                "type":"section",
                "text": {
                "type": "mrkdwn",
                "text": "New version: ${artifact_version_string}"
            }
            },
            {
            "type": "divider"
        },
            {
                "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Author: ${event_author}"
            }
            }
        ]
    })";

}  // namespace herald::test
