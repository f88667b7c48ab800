// herald/sqlite/key_provider.hpp — kept so hosts that include it still build: the key provider
// serves every persistent backend and lives in herald/key_provider.hpp, namespace herald.
#pragma once

#include <herald/key_provider.hpp>

namespace herald::sqlite {

using herald::EncryptionKey;
using herald::key_from_environment;
using herald::key_from_file;
using herald::KeyProvider;
using herald::StaticKeyProvider;

}  // namespace herald::sqlite
