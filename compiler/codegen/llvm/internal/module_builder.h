// SPDX-License-Identifier: Apache-2.0
// Shared state and small IR helpers of the decision code generator.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace hoody::codegen {

/// The module under construction, its common types, and constants shared
/// between functions (strings and tables are emitted once per content).
class ModuleBuilder {
 public:
  ModuleBuilder(llvm::LLVMContext& context, llvm::Module& module);

  llvm::LLVMContext& context() { return context_; }
  llvm::Module& module() { return module_; }

  llvm::IntegerType* i1() const { return i1_; }
  llvm::IntegerType* i8() const { return i8_; }
  llvm::IntegerType* i32() const { return i32_; }
  llvm::IntegerType* i64() const { return i64_; }
  llvm::IntegerType* i128() const { return i128_; }
  llvm::PointerType* ptr() const { return ptr_; }

  /// `void (ptr input, ptr output, i32 realm, i32 block)`.
  llvm::FunctionType* blockFunctionType() const { return block_type_; }

  /// Creates an internal function that never unwinds.
  llvm::Function* createFunction(llvm::FunctionType* type, const llvm::Twine& name);

  /// Declares (once) a host helper taking and returning the given types.
  llvm::FunctionCallee helper(llvm::StringRef name, llvm::Type* result,
                              llvm::ArrayRef<llvm::Type*> params);

  /// Returns a private constant array of the values, shared by equal content.
  llvm::GlobalVariable* constantArray(llvm::ArrayRef<uint64_t> values, const llvm::Twine& name);
  llvm::GlobalVariable* constantArray(llvm::ArrayRef<uint32_t> values, const llvm::Twine& name);
  llvm::GlobalVariable* constantArray(llvm::ArrayRef<uint8_t> values, const llvm::Twine& name);
  /// Returns a private constant holding the bytes of `text` (no terminator).
  llvm::GlobalVariable* constantString(llvm::StringRef text);

  /// Address `offset` bytes past `base`.
  llvm::Value* fieldAddress(llvm::IRBuilder<>& b, llvm::Value* base, size_t offset);
  /// Loads a field of type `type` at `offset` bytes past `base`.
  llvm::Value* loadField(llvm::IRBuilder<>& b, llvm::Type* type, llvm::Value* base, size_t offset,
                         const llvm::Twine& name = "");
  /// Stores `value` at `offset` bytes past `base`.
  void storeField(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* base, size_t offset);
  /// Loads element `index` of a constant array of `element` values.
  llvm::Value* loadElement(llvm::IRBuilder<>& b, llvm::Type* element, llvm::Value* array,
                           llvm::Value* index, const llvm::Twine& name = "");

 private:
  llvm::GlobalVariable* internConstant(llvm::Constant* init, const std::string& key,
                                       const llvm::Twine& name);

  llvm::LLVMContext& context_;
  llvm::Module& module_;
  llvm::IntegerType* i1_;
  llvm::IntegerType* i8_;
  llvm::IntegerType* i32_;
  llvm::IntegerType* i64_;
  llvm::IntegerType* i128_;
  llvm::PointerType* ptr_;
  llvm::FunctionType* block_type_;
  std::map<std::string, llvm::GlobalVariable*> constants_;
};

}  // namespace hoody::codegen
